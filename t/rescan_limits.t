#!/usr/bin/perl

# Issue 5: GitHub's budget, shared by the fleet through Redis (docs/rescan.md).
#  1. Primary limit: the stub keeps one budget for all users (remaining goes down by one per
#     answer but a 304; 403 at 0 until the reset). With `gist_github_rate_reserve 5`, rescans stop
#     once remaining reaches the reserve (the stub never has to answer 403), /health shows the
#     budget, POST /user still works, and rescans resume after the reset.
#  2. Secondary limit: one 429 with retry-after 4 pauses every rescan for 4 s (pause_until in
#     Redis, last_scan "github_rate_limited"), then they resume.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use Time::Local qw(timegm);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my $INTERVAL = 2;
my $RESERVE = 5;

sub epoch_of {
    my ($s) = @_;
    return undef unless defined $s && $s =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z\z/;
    return timegm($6, $5, $4, $3, $2 - 1, $1) + ($7 // 0);
}

sub health { my ($n) = @_; return ($n->http(GET => '/health'))[3] || {} }

my $redis = $t->redis;

# ---------------------------------------------------------------------------------------------
# 1. The primary limit and the reserve.
# No ETags: every answer is a 200 and costs one, as for users whose gists keep changing.
my @rl = map { "budget$_" } 1 .. 4;
my $gh = $t->stub({ users => { map { $_ => { gists => [StubGitHub::make_gists($_, 1, tag => 'rl')], etag => 0 } }
                               @rl, 'ondemand' } });
# One in flight per worker (2 workers): the reserve can be overshot by at most one answer.
my $ng = $t->nginx(workers => 2, prefix => 'rl:', stub => $gh, http_extra =>
    "    gist_rescan_interval ${INTERVAL}s;\n    gist_rescan_concurrency 1;\n    gist_github_rate_reserve $RESERVE;\n")->run;

my @h = map { $ng->http_send(POST => "/user/$_", timeout => 10) } @rl;
is(scalar(grep { ($_->[0] // 0) == 201 } GistTest::http_wait_all(\@h, 10)), scalar @rl, 'budget: 4 users tracked');

my $reset_at = int(time) + 9;
$gh->set_rate(limit => 100, remaining => 9, reset_at => $reset_at, window => 3600);
my $t_rate = time;

# The four rescans that the budget allows (9 -> 5) come within about an interval; then none.
ok(GistTest::wait_for(sub { ($gh->rate->{remaining} // 99) <= $RESERVE }, 2 * $INTERVAL + 2, 0.05),
   'budget: rescans spend the budget down to the reserve')
    or diag explain $gh->rate;
my $t_stop = time;
sleep 0.3;    # a claim made just before the last answer may still be on its way
my $rem_stop = $gh->rate->{remaining};
ok($rem_stop >= $RESERVE - 1, "budget: remaining $rem_stop: the reserve ($RESERVE) overshot by at most one in-flight rescan");
ok(GistTest::wait_for(sub { (health($ng)->{github}{remaining} // -1) == $rem_stop }, 2, 0.1),
   "budget: /health github.remaining is the stub's $rem_stop")
    or diag explain health($ng)->{github};
my $hj = health($ng);
is($hj->{github}{limit}, 100, 'budget: /health github.limit 100');
is(epoch_of($hj->{github}{reset}), $reset_at, 'budget: /health github.reset is the stub\'s reset');
is($redis->cmd('HGET', 'rl:github:rate', 'remaining'), $rem_stop, 'budget: rl:github:rate in Redis holds remaining');

# On-demand scans still work below the reserve.
my ($st, undef, $body) = $ng->http(POST => '/user/ondemand');
is($st, 201, 'budget: POST /user/ondemand works while rescans are held back') or diag $body;
is($gh->rate->{remaining}, $rem_stop - 1, 'budget: the POST cost one');

# Nothing until the reset (4+ intervals without a single rescan).
GistTest::wait_for(sub { time >= $reset_at - 0.3 }, 12, 0.1);
my ($post_req) = $gh->requests_for('ondemand');
my @held = grep { !($_->{login} eq 'ondemand' && $_->{time} == $post_req->{time})
                  && $_->{time} > $t_stop + 0.3 && $_->{time} < $reset_at - 0.3 } $gh->requests;
is(scalar @held, 0, sprintf('budget: no rescan for %.1f s (%.1f intervals) while remaining <= reserve',
                            $reset_at - 0.6 - $t_stop, ($reset_at - 0.6 - $t_stop) / $INTERVAL))
    or diag explain [map { "$_->{login} " . ($_->{time} - $t_stop) } @held];
is(scalar(grep { ($_->{status} // 0) == 403 } $gh->requests), 0, 'budget: the stub never had to answer 403');

# After the reset: every user is rescanned again within about an interval.
ok(GistTest::wait_for(sub {
    !grep { my $u = $_; !grep { $_->{time} >= $reset_at } $gh->requests_for($u) } @rl, 'ondemand';
}, 3 * $INTERVAL + 2, 0.1), 'budget: after the reset every user (also the one tracked meanwhile) is rescanned');
ok(GistTest::wait_for(sub { (health($ng)->{github}{remaining} // 0) > 90 }, 3, 0.1),
   '/health github.remaining shows the refilled budget');
$gh->set_rate(undef);
$ng->no_alerts('budget: no alert');
$ng->stop;

# ---------------------------------------------------------------------------------------------
# 2. A secondary limit: 429 with retry-after pauses everybody's rescans for that long.
my @sl = map { "second$_" } 1 .. 3;
my $gh2 = $t->stub({ users => { map { $_ => { gists => [StubGitHub::make_gists($_, 1, tag => 'sl')] } } @sl } });
my $ng2 = $t->nginx(workers => 2, prefix => 'sl:', stub => $gh2, http_extra =>
    "    gist_rescan_interval ${INTERVAL}s;\n    gist_github_rate_reserve 10;\n")->run;
@h = map { $ng2->http_send(POST => "/user/$_", timeout => 10) } @sl;
is(scalar(grep { ($_->[0] // 0) == 201 } GistTest::http_wait_all(\@h, 10)), scalar @sl, 'secondary: 3 users tracked');
my $RETRY = 4;
$gh2->set_user(second1 => { gists => [StubGitHub::make_gists('second1', 1, tag => 'sl')], status => 429,
                            retry_after => $RETRY });
my $r429;
ok(GistTest::wait_for(sub {
    ($r429) = grep { ($_->{status} // 0) == 429 } $gh2->requests_for('second1');
    return $r429;
}, 2 * $INTERVAL + 2, 0.02), 'secondary: a rescan of second1 got 429 retry-after 4');
$gh2->set_user(second1 => { gists => [StubGitHub::make_gists('second1', 1, tag => 'sl')] });
my $T = $r429->{time};
ok(GistTest::wait_for(sub {
    my (undef, undef, undef, $u) = $ng2->http(GET => '/user/second1');
    ($u->{last_scan} // '') eq 'github_rate_limited';
}, 2, 0.05), 'secondary: GET /user/second1 shows last_scan "github_rate_limited"');
my $pause = $redis->cmd('GET', 'sl:github:pause_until');
ok(defined $pause && abs($pause / 1000 - ($T + $RETRY)) < 1,
   sprintf('secondary: sl:github:pause_until is the 429 + retry-after (%.2f s after it)', ($pause // 0) / 1000 - $T));

GistTest::wait_for(sub { time >= $T + $RETRY + 2 * $INTERVAL + 0.5 }, $RETRY + 2 * $INTERVAL + 2, 0.1);
my @during = grep { $_->{time} > $T + 0.3 && $_->{time} < $T + $RETRY - 0.2 } $gh2->requests;
is(scalar @during, 0, sprintf('secondary: no request from %.1f s to %.1f s after the 429', 0.3, $RETRY - 0.2))
    or diag explain [map { sprintf '%s %.2f', $_->{login}, $_->{time} - $T } @during];
for my $u (@sl) {
    my @after = grep { $_->{time} >= $T + $RETRY - 0.2 } $gh2->requests_for($u);
    ok(@after >= 1, "secondary: $u is rescanned again after the pause");
}
my @first_after = sort { $a <=> $b } map { $_->{time} - $T } grep { $_->{login} eq 'second1' && $_->{time} > $T + 0.3 } $gh2->requests;
ok(@first_after && $first_after[0] < $RETRY + 1.5,
   sprintf('secondary: second1 is due again right after the pause (%.2f s after the 429)', $first_after[0] // -1));
my (undef, undef, undef, $u1) = $ng2->http(GET => '/user/second1');
ok(($u1->{last_scan} // '') =~ /^(?:ok|not_modified)\z/, 'secondary: second1\'s last_scan is ok again')
    or diag explain $u1->{last_scan};
$ng2->no_alerts('secondary: no alert');

done_testing;
