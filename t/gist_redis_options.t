#!/usr/bin/perl

# gist_redis forms: unix:/path, db=N (keys land in that database), password_file=/path
# (AUTH; a wrong password means 503 redis_unavailable, and the password never shows).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my $sockdir = $t->subdir('sock');
chmod 0777, $sockdir;
my $sock = "$sockdir/redis.sock";
my $redis = $t->redis(args => ['--unixsocket', $sock, '--unixsocketperm', '777']);
my $stub = $t->stub({ users => {
    octocat => { gists => [StubGitHub::make_gists('octocat', 2)] },
    bob     => { gists => [StubGitHub::make_gists('bob', 1)] },
} });

# --- unix socket -----------------------------------------------------------------------------
my $ng1 = $t->nginx(redis_line => "unix:$sock")->run;
my ($st, $h, $body, $j) = $ng1->http(GET => '/health');
is($st, 200, 'unix socket: health 200');
is($j->{redis}, 'up', 'unix socket: redis up');
($st) = $ng1->http(POST => '/user/octocat');
is($st, 201, 'unix socket: POST 201');
ok(scalar(grep { $_ eq 'gist:user:{octocat}' } $redis->all_keys), 'unix socket: state in Redis');
$ng1->stop;

# --- db=N ------------------------------------------------------------------------------------
my $ng2 = $t->nginx(redis_line => '127.0.0.1:' . $redis->port . ' db=5', prefix => 'db5:')->run;
($st) = $ng2->http(POST => '/user/bob');
is($st, 201, 'db=5: POST 201');
ok(!grep({ /^db5:/ } $redis->all_keys), 'db=5: nothing in database 0');
my $k5 = $redis->cmds(['SELECT', 5], ['KEYS', 'db5:*']);
ok(scalar(grep { $_ eq 'db5:user:{bob}' } @$k5), 'db=5: keys in database 5');
$ng2->stop;

# --- password_file ---------------------------------------------------------------------------
my $password = 'RedisPassw0rdForTestsOnly';
my $pw_file = $t->write_file('redis_pw', "$password\n", 0600);
my $bad_file = $t->write_file('redis_pw_bad', "wrong-password\n", 0600);
my $predis = $t->redis(password => $password);

my $ng3 = $t->nginx(redis => $predis, redis_line => '127.0.0.1:%%REDISPORT%% password_file=' . $pw_file)->run;
($st, $h, $body, $j) = $ng3->http(GET => '/health');
is($st, 200, 'password_file: health 200');
($st, $h, my $b1) = $ng3->http(POST => '/user/octocat');
is($st, 201, 'password_file: POST 201 (AUTH worked)');
ok(scalar(grep { $_ eq 'gist:user:{octocat}' } $predis->all_keys), 'password_file: state written');

my $ng4 = $t->nginx(redis => $predis, redis_line => '127.0.0.1:%%REDISPORT%% password_file=' . $bad_file)->run;
($st, $h, $body, $j) = $ng4->http(GET => '/health');
is($st, 503, 'wrong password: health 503');
is(ref $j eq 'HASH' ? $j->{redis} : undef, 'down', 'wrong password: redis down');
error_ok([$ng4->http(POST => '/user/bob')], 503, 'redis_unavailable', 'wrong password: POST 503 redis_unavailable');
ok(!grep({ $_ eq 'gist:user:{bob}' } $predis->all_keys), 'wrong password: nothing written');

$_->stop for $ng3, $ng4;
for my $ng ($ng1, $ng2, $ng3, $ng4) {
    ok(index($ng->error_log, $password) < 0 && index($ng->error_log, 'wrong-password') < 0,
       'no Redis password in ' . $ng->dir . '/error.log');
}
ok(index($b1 // '', $password) < 0, 'no Redis password in the response');
$_->no_alerts for $ng1, $ng2, $ng3, $ng4;

done_testing;
