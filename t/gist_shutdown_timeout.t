#!/usr/bin/perl

# worker_shutdown_timeout is honoured: after a reload the old worker waits for its background
# work (a rescan, a deal job) only until worker_shutdown_timeout, then exits; the work it drops
# is leased in Redis and taken over by the new worker, so the user is still rescanned and every
# gist still becomes exactly one deal.
#
# GitHub answers the rescan of "slowpoke" after 60 s, and Pipedrive creates the deal of "dealer"
# and then hangs. worker_shutdown_timeout is 2 s; without it the old worker would wait for the
# GitHub timeout (5 s) or the Pipedrive timeout (3 s) and the claim lease.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @slow_gists = StubGitHub::make_gists('slowpoke', 2, tag => 'shutdown');
my @deal_gists = StubGitHub::make_gists('dealer', 1, tag => 'shutdown');
my $redis = $t->redis;
my $gh = $t->stub({ users => {
    slowpoke => { gists => [$slow_gists[0]] },
    dealer   => { gists => \@deal_gists },
} });
my $pd = $t->pipedrive;
# GitHub: 5 s timeout, one page: a rescan lease of 2 x 5 x 2 = 20 s.
my $ng = $t->nginx(workers => 1, timeout => '5s', max_pages => 1, http_extra =>
    "    gist_rescan_interval 1s;\n    gist_github_rate_reserve 0;\n"
    . $t->pipedrive_conf($pd, timeout => '3s', claim_timeout => '9s', response_wait => '0'));
$ng->set_conf("worker_shutdown_timeout 2s;\n" . $ng->{template});
$ng->run;

my ($st) = $ng->http(POST => '/user/slowpoke');
is($st, 201, 'slowpoke tracked');
ok(GistTest::pipedrive_wait($pd, 'slowpoke', [$slow_gists[0]{id}], 20), "slowpoke's first gist has its deal");

# From now on: slowpoke has a new gist and GitHub takes 60 s; Pipedrive creates dealer's deal,
# then hangs.
my $t_slow = time;
$gh->set_user(slowpoke => { gists => \@slow_gists, delay => 60 });
$pd->set_endpoint(create_deal => { hang => { count => 1, seconds => 60 } });
($st) = $ng->http(POST => '/user/dealer');
is($st, 201, 'dealer tracked');

ok(GistTest::wait_for(sub {
    scalar($pd->requests_for('create_deal')) >= 2
        && grep { $_->{time} > $t_slow } $gh->requests_for('slowpoke');
}, 10, 0.05), "a rescan of slowpoke and dealer's deal create are both in flight");

my @old = $ng->worker_pids;
my $t_reload = time;
ok($ng->reload, 'reloaded');
ok(GistTest::wait_for(sub { !grep { kill 0, $_ } @old }, 10, 0.05), 'the old worker exited');
my $took = time - $t_reload;
cmp_ok($took, '<', 3, sprintf('... within 3 s of the reload (%.2f s; worker_shutdown_timeout 2s)', $took));

# GitHub is quick again: the dropped rescan is taken over when its lease runs out.
$gh->set_user(slowpoke => { gists => \@slow_gists });
ok(GistTest::pipedrive_wait($pd, 'slowpoke', [map { $_->{id} } @slow_gists], 40),
   "slowpoke is rescanned by the new worker and its new gist has its deal");
ok(GistTest::pipedrive_wait($pd, 'dealer', [map { $_->{id} } @deal_gists], 30),
   "dealer's deal job is taken over and finished");
GistTest::pipedrive_exactly_once_ok($pd, 'slowpoke', [map { $_->{id} } @slow_gists]);
GistTest::pipedrive_exactly_once_ok($pd, 'dealer', [map { $_->{id} } @deal_gists]);
GistTest::pipedrive_contract_ok([$pd], 'gist_shutdown_timeout.t');

like($ng->error_log, qr/worker_shutdown_timeout: background work in flight is left to other workers/,
     'the old worker said why it let go');
$ng->stop;
$ng->no_alerts;

done_testing;
