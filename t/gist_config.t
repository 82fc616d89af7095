#!/usr/bin/perl

# nginx -t: every bad directive value fails with "[emerg] ... in <file>:<line>" pointing at the
# directive; good configurations pass. Bad gist_github_api_url, unreadable token file, bad
# durations, a handler directive without gist_redis, bad gist_redis values, bad max pages.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;

my $t = GistTest->new;

my $token = 'ghp_ConfigTestToken0000000000000000abcd';
my $token_file = $t->write_file('token', "$token\n", 0600);
my $pw_file = $t->write_file('redis_password', "s3cret\n", 0600);
my $tokdir = $t->subdir('a_directory');
my $ng = $t->nginx(vars => { REDISPORT => 6390, STUB => 'http://127.0.0.1:9' });

my $conf_path = $ng->conf_path;

# Writes the standard conf with %o, runs nginx -t; returns (rc, output).
sub check {
    my (%o) = @_;
    $ng->set_conf(GistTest::standard_conf(%o));
    return $ng->check_conf;
}

# A bad configuration: nginx -t fails with [emerg] in nginx.conf at the line matching $line_re.
sub bad_ok {
    my ($name, $line_re, %o) = @_;
    my ($rc, $out) = check(%o);
    my $line = $ng->conf_line($line_re);
    die "test bug: no line matches $line_re\n" . $ng->conf_text unless $line;
    isnt($rc, 0, "$name: nginx -t fails");
    like($out, qr/\[emerg\] .* in \Q$conf_path\E:$line\b/, "$name: [emerg] ... in nginx.conf:$line")
        or diag $out;
    return $out;
}

# --- good configurations ---------------------------------------------------------------------
my ($rc, $out) = check();
is($rc, 0, 'standard conf passes nginx -t') or diag $out;
($rc, $out) = check(token_file => $token_file, max_pages => 3, timeout => '1500ms');
is($rc, 0, 'token file, max pages, ms timeout pass') or diag $out;
ok(index($out, $token) < 0, 'token not echoed by nginx -t');
($rc, $out) = check(redis_line => "127.0.0.1:6390 db=2 password_file=$pw_file");
is($rc, 0, 'gist_redis with db= and password_file= passes') or diag $out;
ok(index($out, 's3cret') < 0, 'redis password not echoed by nginx -t');
($rc, $out) = check(redis_line => 'unix:/tmp/some-redis.sock');
is($rc, 0, 'gist_redis unix:/path passes') or diag $out;
($rc, $out) = check(api_url => 'https://api.github.com');
is($rc, 0, 'https://api.github.com passes') or diag $out;
($rc, $out) = check(timeout => '2m');
is($rc, 0, 'gist_upstream_timeout 2m passes') or diag $out;

# --- gist_github_api_url -----------------------------------------------------------------------
bad_ok('api url ftp://x', qr/gist_github_api_url/, api_url => 'ftp://x');
bad_ok('api url "not a url"', qr/gist_github_api_url/, api_url => '"not a url"');
bad_ok('api url without host', qr/gist_github_api_url/, api_url => 'http://');
bad_ok('api url without scheme', qr/gist_github_api_url/, api_url => 'api.github.com');

# --- gist_github_token_file --------------------------------------------------------------------
$out = bad_ok('missing token file', qr/gist_github_token_file/, token_file => "$t->{dir}/no-such-token");
bad_ok('token file is a directory', qr/gist_github_token_file/, token_file => $tokdir);
my $empty = $t->write_file('empty_token', '', 0600);
bad_ok('empty token file', qr/gist_github_token_file/, token_file => $empty);

# --- gist_upstream_timeout -----------------------------------------------------------------
bad_ok('timeout "abc"', qr/gist_upstream_timeout/, timeout => 'abc');
bad_ok('timeout "10parsecs"', qr/gist_upstream_timeout/, timeout => '10parsecs');
bad_ok('timeout "-1s"', qr/gist_upstream_timeout/, timeout => '-1s');
# 0 would mean "no timeout" to libcurl and "never connects" to the Redis handshake.
like(bad_ok('timeout 0', qr/gist_upstream_timeout/, timeout => '0'), qr/must be greater than 0/,
     'timeout 0: says why');
bad_ok('timeout 0s', qr/gist_upstream_timeout/, timeout => '0s');
bad_ok('gist_redis_timeout 0', qr/gist_redis_timeout/, http_extra => "    gist_redis_timeout 0;\n");
bad_ok('gist_pipedrive_timeout 0', qr/gist_pipedrive_timeout/, http_extra => "    gist_pipedrive_timeout 0ms;\n");

# --- gist_github_max_pages -------------------------------------------------------------------
bad_ok('max pages "many"', qr/gist_github_max_pages/, max_pages => 'many');
bad_ok('max pages 0', qr/gist_github_max_pages/, max_pages => '0');

# --- gist_redis ------------------------------------------------------------------------------
bad_ok('gist_redis "nohost"', qr/gist_redis /, redis_line => 'nohost');
bad_ok('gist_redis port not a number', qr/gist_redis /, redis_line => '127.0.0.1:notaport');
bad_ok('gist_redis port out of range', qr/gist_redis /, redis_line => '127.0.0.1:70000');
bad_ok('gist_redis empty unix path', qr/gist_redis /, redis_line => 'unix:');
bad_ok('gist_redis db=x', qr/gist_redis /, redis_line => '127.0.0.1:6390 db=x');
bad_ok('gist_redis unknown option', qr/gist_redis /, redis_line => '127.0.0.1:6390 color=blue');
bad_ok('gist_redis missing password_file', qr/gist_redis /,
       redis_line => "127.0.0.1:6390 password_file=$t->{dir}/no-such-password");

# --- a handler without gist_redis ------------------------------------------------------------
{
    my $conf = GistTest::standard_conf();
    $conf =~ s/^\s*gist_redis .*\n//m or die;
    $ng->set_conf($conf);
    my ($rc, $out) = $ng->check_conf;
    isnt($rc, 0, 'gist_user without gist_redis: nginx -t fails');
    like($out, qr/\[emerg\] .*gist_redis.* in \Q$conf_path\E:\d+/, 'gist_user without gist_redis: [emerg] names gist_redis, with file:line')
        or diag $out;
    my ($line) = $out =~ /in \Q$conf_path\E:(\d+)/;
    my $first_handler = $ng->conf_line(qr/gist_user;/);
    my $last_line = () = $ng->conf_text =~ /\n/g;
    ok(defined $line && $line >= $first_handler && $line <= $last_line + 1,
       "without gist_redis: the line points into the handler section (line " . ($line // 'none') . ')');
}
{
    # only /health: still needs Redis to answer
    my $conf = GistTest::standard_conf();
    $conf =~ s/^\s*gist_redis .*\n//m;
    $conf =~ s/^.*location \/user\/.*\n//m;
    $conf =~ s/^.*location = \/trackedusers.*\n//m;
    $ng->set_conf($conf);
    my ($rc, $out) = $ng->check_conf;
    isnt($rc, 0, 'gist_health without gist_redis: nginx -t fails');
    like($out, qr/\[emerg\] .* in \Q$conf_path\E:\d+/, 'gist_health without gist_redis: [emerg] with file:line')
        or diag $out;
}

# A directive in the wrong context.
{
    my $conf = GistTest::standard_conf();
    $conf =~ s/(location = \/health\s*\{ gist_health; \})/$1\n        gist_user;/ or die;
    $ng->set_conf($conf);
    my ($rc, $out) = $ng->check_conf;
    my $line = $ng->conf_line(qr/^\s*gist_user;\s*$/);
    isnt($rc, 0, 'gist_user at server level: nginx -t fails');
    like($out, qr/\[emerg\] .* in \Q$conf_path\E:$line\b/, 'gist_user at server level: [emerg] at its line')
        or diag $out;
}

ok(!$ng->master_pid, 'nginx -t started nothing (no pid in the pid file)');

done_testing;
