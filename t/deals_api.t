#!/usr/bin/perl

# Issue 11, item 2: the console's deal API. GET /deals?status=dead|retrying|queued&limit=&cursor=
# lists jobs (dead letters with their reason), POST /deals/{gist}/retry and POST /deals/retry move
# dead letters back through the same outbox path: after Pipedrive is fixed, exactly one deal per
# gist, and a second retry of the same job is refused (404 not_dead), never a second deal.
# Errors: 400 invalid_status/invalid_limit/invalid_cursor, 404 not_found, 405, 409 deals_off.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @gists = StubGitHub::make_gists('dora', 3, tag => 'deals-api');
my @ids = map { $_->{id} } @gists;
my @solo = StubGitHub::make_gists('solo', 1, tag => 'deals-api');

my $redis = $t->redis;
my $gh = $t->stub({ users => { dora => { gists => \@gists }, solo => { gists => \@solo } } });
my $pd = $t->pipedrive;
my $ng = $t->nginx(workers => 2, http_extra => $t->pipedrive_conf($pd, response_wait => '2s'),
                   server_extra => "        location /deals { gist_deals; }\n")->run;

sub get_json { my (undef, undef, undef, $j) = $ng->http(GET => shift); return $j }

# Pipedrive refuses every deal: each job is dead-lettered with its reason.
$pd->set_behaviour({ endpoints => { create_deal => { fail => { status => 422 } } } });
my ($st) = $ng->http(POST => '/user/dora', timeout => 15);
is($st, 201, 'dora tracked');
ok(GistTest::wait_for(sub { (get_json('/deals?status=dead') // {})->{count} == 3 }, 20, 0.2),
   'three dead letters') or diag explain get_json('/deals?status=dead');

my $dead = get_json('/deals?status=dead');
is($dead->{status}, 'dead', 'status echoed');
is($dead->{pipedrive_url}, $pd->url, 'the Pipedrive company URL is given for deal links');
is_deeply([sort map { $_->{gist_id} } @{ $dead->{deals} }], [sort @ids], 'every gist is listed');
my $d0 = $dead->{deals}[0];
is($d0->{login}, 'dora', 'login');
is($d0->{state}, 'failed', 'state failed');
is($d0->{http_status}, 422, 'HTTP status of the refusal');
like($d0->{reason} // '', qr/\S/, 'a reason');
like($d0->{detail} // '', qr/422/, 'the detail names the status');
like($d0->{failed_at} // '', $RFC3339, 'failed_at');
like($d0->{title} // '', qr/^Gist \Q$d0->{gist_id}\E by dora/, 'the deal title');
is($d0->{html_url}, "https://gist.github.com/$d0->{gist_id}", 'the gist link');
ok(!defined $dead->{next_cursor}, 'one page: no next_cursor');

# paging
my $p1 = get_json('/deals?status=dead&limit=2');
is(scalar @{ $p1->{deals} }, 2, 'limit=2: two');
is($p1->{count}, 3, 'count is the total');
ok(defined $p1->{next_cursor}, 'a next_cursor');
my $p2 = get_json("/deals?status=dead&limit=2&cursor=$p1->{next_cursor}");
is(scalar @{ $p2->{deals} }, 1, 'the last page');
ok(!defined $p2->{next_cursor}, 'no cursor after the last page');
is_deeply([sort map { $_->{gist_id} } @{ $p1->{deals} }, @{ $p2->{deals} }], [sort @ids], 'pages cover all');

for my $s (qw(retrying queued)) {
    my $j = get_json("/deals?status=$s");
    is_deeply([$j->{count}, $j->{deals}], [0, []], "status=$s: none");
}

# errors
error_ok([$ng->http(GET => '/deals?status=lost')], 400, 'invalid_status');
error_ok([$ng->http(GET => '/deals?limit=0')], 400, 'invalid_limit');
error_ok([$ng->http(GET => '/deals?limit=abc')], 400, 'invalid_limit', '400 invalid_limit (abc)');
error_ok([$ng->http(GET => '/deals?status=queued&cursor=zz')], 400, 'invalid_cursor');
error_ok([$ng->http(GET => '/deals/abc')], 404, 'not_found');
error_ok([$ng->http(GET => '/deals/retry')], 405, 'method_not_allowed', 'GET /deals/retry: 405');
error_ok([$ng->http(DELETE => '/deals')], 405, 'method_not_allowed', 'DELETE /deals: 405');
error_ok([$ng->http(POST => '/deals/deadbeef/retry')], 404, 'not_dead');
my (undef, $h405) = $ng->http(POST => '/deals');
is($h405->{allow}, 'GET, HEAD', 'Allow on /deals');

# fix Pipedrive, retry one: exactly one deal for it; a second retry is refused
$pd->set_behaviour({});
my ($rs, undef, $rb, $rj) = $ng->http(POST => "/deals/$ids[0]/retry");
is($rs, 200, 'retry one: 200') or diag $rb;
is($rj->{retried}, 1, 'retried 1');
error_ok([$ng->http(POST => "/deals/$ids[0]/retry")], 404, 'not_dead', 'a second retry of the same job: 404 not_dead');
ok(GistTest::wait_for(sub { my @d = grep { ($_->{title} // '') =~ /^Gist \Q$ids[0]\E by / } $pd->deals; @d == 1 }, 15, 0.2),
   'the retried job made its deal');
is(get_json('/deals?status=dead')->{count}, 2, 'two dead letters left');

# retry all
($rs, undef, $rb, $rj) = $ng->http(POST => '/deals/retry');
is($rs, 200, 'retry all: 200') or diag $rb;
is($rj->{retried}, 2, 'retried 2');
($rs, undef, undef, $rj) = $ng->http(POST => '/deals/retry');
is($rj->{retried}, 0, 'retry all again: nothing left');
ok(GistTest::pipedrive_wait($pd, 'dora', \@ids, 20), 'every gist has its deal');
GistTest::pipedrive_exactly_once_ok($pd, 'dora', \@ids, 'exactly one deal and note per gist after retries');
my $user = get_json('/user/dora');
is(scalar(grep { ($_->{deal}{status} // '') eq 'created' } @{ $user->{gists} }), 3, 'GET /user: all created');
is(get_json('/deals?status=dead')->{count}, 0, 'no dead letters');

# queued: a job in flight while Pipedrive is slow is listed with its state
$pd->set_behaviour({ endpoints => { '*' => { delay => 1.5 } } });
my $send = $ng->http_send(POST => '/user/solo', timeout => 15);
my $q;
ok(GistTest::wait_for(sub { $q = get_json('/deals?status=queued'); ($q->{count} // 0) == 1 }, 10, 0.05),
   'status=queued: the job in flight');
is($q->{deals}[0]{gist_id}, $solo[0]{id}, 'queued: its gist');
GistTest::http_wait($send);
$pd->set_behaviour({});
ok(GistTest::pipedrive_wait($pd, 'solo', [$solo[0]{id}], 20), 'solo: its deal');

# deals off: the list answers, a retry cannot run
my $ng2 = $t->nginx(workers => 1, server_extra => "        location /deals { gist_deals; }\n")->run;
error_ok([$ng2->http(POST => '/deals/retry')], 409, 'deals_off');
my (undef, undef, undef, $off) = $ng2->http(GET => '/deals');
ok(!defined $off->{pipedrive_url}, 'deals off: pipedrive_url null');

$ng->no_alerts;
$ng2->no_alerts;
GistTest::pipedrive_contract_ok([$pd]);

done_testing;
