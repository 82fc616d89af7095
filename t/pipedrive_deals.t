#!/usr/bin/perl

# Issue 3, the normal flow: every new gist becomes exactly one Pipedrive deal (with one note), one
# person per GitHub login, counted at the stub Pipedrive. The "deal" member of each gist in
# POST/GET /user (created / pending), /health's "pipedrive" and "deals", what is sent (admin
# fields, title, note, token only in x-api-token), a second scan and an untrack/re-track create
# nothing, `gist_pipedrive_existing_gists skip`, the no-Pipedrive mode, and the OpenAPI contract of
# every request the stubs received.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @alice = (
    StubGitHub::make_gist(id => 'a11ce0001', login => 'alice', created_at => '2024-03-01T10:00:00Z',
                          files => ['main.py', 'README.md'], description => 'Parse the logs'),
    StubGitHub::make_gist(id => 'a11ce0002', login => 'alice', created_at => '2024-02-01T10:00:00Z',
                          files => ['notes.txt'], description => undef),
    StubGitHub::make_gist(id => 'a11ce0003', login => 'alice', created_at => '2024-01-01T10:00:00Z',
                          files => ['x.sh'], description => 'Deploy script'),
);
my $alice_new = StubGitHub::make_gist(id => 'a11ce0004', login => 'alice',
    created_at => '2024-04-01T10:00:00Z', files => ['later.go'], description => 'Added later');
my @bob = StubGitHub::make_gists('bob', 2, tag => 'pd');
my @carol = StubGitHub::make_gists('carol', 2, tag => 'pd');
my $carol_new = StubGitHub::make_gist(id => 'ca201ae01', login => 'carol', created_at => '2025-01-01T00:00:00Z',
                                      files => ['new.rb'], description => 'Carol later');
my @dave = StubGitHub::make_gists('dave', 2, tag => 'pd');

my $redis = $t->redis;
my $gh = $t->stub({ users => { alice => { gists => \@alice }, bob => { gists => \@bob },
                               carol => { gists => \@carol }, dave => { gists => \@dave } } });
my $pd = $t->pipedrive;
my $pd_skip = $t->pipedrive;

my $ng = $t->nginx(workers => 2, http_extra => $t->pipedrive_conf($pd,
    pipeline_id => 7, stage_id => 3, owner_id => 42, value => 100, currency => 'EUR', visible_to => 3,
    timeout => '3s', claim_timeout => '9s', response_wait => '2s'))->run;
my $ng_skip = $t->nginx(workers => 2, prefix => 'skip:',
    http_extra => $t->pipedrive_conf($pd_skip, existing_gists => 'skip', response_wait => '2s'))->run;
my $ng_off = $t->nginx(workers => 2, prefix => 'off:')->run;

sub ids { [map { $_->{id} } @_] }

# gist id => its "deal" member ('MISSING' when absent) over new_gists, old_gists and gists.
sub deals_of { GistTest::deals_of(@_) }

sub is_created { my ($d) = @_; ref $d eq 'HASH' && ($d->{status} // '') eq 'created' && ($d->{id} // '') =~ /^\d+\z/ }
sub is_pending { my ($d) = @_; ref $d eq 'HASH' && ($d->{status} // '') eq 'pending' }

# The stub's deal id for a gist (undef unless exactly one).
sub stub_deal_id {
    my ($p, $id) = @_;
    my @d = grep { ($_->{title} // '') =~ /^Gist \Q$id\E by / } $p->deals;
    return @d == 1 ? $d[0]{id} : undef;
}

sub health { my ($n) = @_; my (undef, undef, undef, $j) = $n->http(GET => '/health'); return $j }

# Waits until /health says no job is queued, in flight or waiting for a retry.
sub wait_idle {
    my ($n, $timeout) = @_;
    return GistTest::wait_for(sub {
        my $h = health($n);
        ref $h eq 'HASH' && ref $h->{deals} eq 'HASH' && ($h->{deals}{queued} // -1) == 0
            && ($h->{deals}{retrying} // -1) == 0;
    }, $timeout // 15, 0.2);
}

sub create_counts {
    my ($p) = @_;
    return join ',', map { scalar(my @r = $p->requests_for($_)) } qw(create_person create_deal create_note);
}

# --- basic flow: 3 new gists -> 3 deals, 3 notes, 1 person ------------------------------------
my ($st, $h, $body, $j) = $ng->http(POST => '/user/alice', timeout => 15);
is($st, 201, 'alice: POST 201');
my $d = deals_of($j);
is(scalar(grep { exists $d->{$_} && $d->{$_} ne 'MISSING' } @{ ids(@alice) }), 3,
   'alice: every new gist has a "deal" member') or diag $body;
# The stub answers at once: all three deals exist well within response_wait (2 s).
is(scalar(grep { is_created($d->{$_}) } @{ ids(@alice) }), 3, 'alice: POST shows the 3 deals created')
    or diag $body;
ok($h->{':elapsed'} < 4, sprintf('alice: POST answered in %.2f s', $h->{':elapsed'}));

ok(GistTest::pipedrive_wait($pd, 'alice', ids(@alice), 15), 'alice: stub reaches 3 deals, 3 notes');
ok(wait_idle($ng), 'alice: /health shows nothing queued or retrying');
GistTest::pipedrive_exactly_once_ok($pd, 'alice', ids(@alice), 'alice: exactly 3 deals, 3 notes, 1 person');
for my $g (@alice) {
    my $sid = stub_deal_id($pd, $g->{id});
    is($d->{ $g->{id} }{id}, $sid, "alice: POST deal id of $g->{id} is the stub's ($sid)")
        if is_created($d->{ $g->{id} });
}

# What was sent.
my $tally = GistTest::pipedrive_tally($pd, 'alice', ids(@alice));
my ($person) = @{ $tally->{persons} };
is($person->{name}, 'alice', 'person named after the login');
my @cp = $pd->requests_for('create_person');
is(scalar @cp, 1, 'one POST /api/v2/persons');
is($cp[0]{json}{owner_id}, 42, 'person: owner_id sent') if @cp;
is($cp[0]{json}{visible_to}, 3, 'person: visible_to sent') if @cp;
my @sp = $pd->requests_for('search_persons');
ok(@sp >= 1, 'person searched first');
is($sp[0]{query}{term}, 'alice', 'search term is the login') if @sp;
is($sp[0]{query}{exact_match}, 'true', 'exact_match=true') if @sp;
ok($sp[0]{time} <= $cp[0]{time}, 'search before create') if @sp && @cp;

for my $g (@alice) {
    my $id = $g->{id};
    my ($deal) = @{ $tally->{deals}{$id} };
    my ($note) = @{ $tally->{notes}{$id} };
    next unless ok($deal && $note, "$id: deal and note exist");
    my $what = $g->{description} // (sort keys %{ $g->{files} })[0];
    like($deal->{title}, qr/^Gist \Q$id\E by alice: \Q$what\E/, "$id: title names gist, login and '$what'");
    is($deal->{person_id}, $person->{id}, "$id: deal on alice's person");
    is_deeply([@$deal{qw(pipeline_id stage_id owner_id value currency visible_to)}], [7, 3, 42, 100, 'EUR', 3],
              "$id: pipeline, stage, owner, value, currency, visible_to as configured");
    my ($req) = grep { ($_->{json}{title} // '') eq $deal->{title} && $_->{action} eq 'ok' }
                $pd->requests_for('create_deal');
    ok($req && !ref $req->{json}{value} && $req->{body} =~ /"value"\s*:\s*100(?:\.0+)?\s*[,}]/,
       "$id: value sent as a JSON number");
    like($note->{content}, qr/\Q$g->{html_url}\E/, "$id: note has the gist link");
    for my $f (sort keys %{ $g->{files} }) {
        like($note->{content}, qr/\Q$f\E/, "$id: note names file $f");
    }
    is($note->{deal_id}, $deal->{id}, "$id: note on its deal");
}

# The token only ever in x-api-token.
my $tok = $pd->token;
my @all = $pd->requests;
is(scalar(grep { ($_->{headers}{'x-api-token'} // '') eq $tok } @all), scalar @all,
   'every request carries x-api-token');
is(scalar(grep { index($_->{target}, $tok) >= 0 || exists $_->{query}{api_token} } @all), 0,
   'the token is never in a URL');
is(scalar(grep { $_->{action} ne 'ok' } @all), 0, 'every request was accepted by the stub')
    or diag explain [map { "$_->{method} $_->{target} -> $_->{action} $_->{body}" } grep { $_->{action} ne 'ok' } @all];

# GET /user shows the same.
($st, undef, $body, $j) = $ng->http(GET => '/user/alice');
is($st, 200, 'alice: GET 200');
my $gd = deals_of($j);
is(scalar(grep { is_created($gd->{$_}) && $gd->{$_}{id} == (stub_deal_id($pd, $_) // -1) } @{ ids(@alice) }), 3,
   'alice: GET shows each deal created with the stub\'s id') or diag $body;

# Redis: the job hashes are done, the stream is empty.
for my $id (@{ ids(@alice) }) {
    my $job = $redis->hgetall("gist:deal:$id");
    is($job->{state}, 'done', "gist:deal:$id state done");
}
is($redis->cmd('XLEN', 'gist:deals:ready'), 0, 'gist:deals:ready is empty');
my $hj = health($ng);
is($hj->{pipedrive}, 'on', '/health "pipedrive":"on"');
is_deeply($hj->{deals}, { queued => 0, retrying => 0, dead => 0 }, '/health deals all 0');
is($hj->{status}, 'ok', '/health status ok');

# --- a second scan, an untrack and re-track: nothing new ---------------------------------------
my $before = create_counts($pd);
($st, undef, $body, $j) = $ng->http(POST => '/user/alice', timeout => 15);
is($st, 200, 'alice: second POST 200');
is(scalar @{ $j->{new_gists} || [] }, 0, 'alice: nothing new');
$d = deals_of($j);
is(scalar(grep { is_created($d->{$_}) } @{ ids(@alice) }), 3, 'alice: old gists show their deals created');
($st) = $ng->http(DELETE => '/user/alice');
is($st, 204, 'alice: untracked');
($st, undef, $body, $j) = $ng->http(POST => '/user/alice', timeout => 15);
is($st, 201, 'alice: tracked again: 201');
is(scalar @{ $j->{new_gists} || [] }, 0, 'alice: re-tracked, nothing new');
$d = deals_of($j);
is(scalar(grep { is_created($d->{$_}) } @{ ids(@alice) }), 3, 'alice: re-tracked, deals still created');
sleep 1;
is(create_counts($pd), $before, 'no create request after the second scan and the re-track');
GistTest::pipedrive_exactly_once_ok($pd, 'alice', ids(@alice), 'alice: still exactly 3 deals');

# --- a gist added later: one more deal, the person is reused -----------------------------------
$gh->set_user(alice => { gists => [$alice_new, @alice] });
($st, undef, $body, $j) = $ng->http(POST => '/user/alice', timeout => 15);
is($st, 200, 'alice: third POST 200');
is_deeply(ids(@{ $j->{new_gists} || [] }), [$alice_new->{id}], 'alice: the added gist is new');
$d = deals_of($j);
ok(is_created($d->{ $alice_new->{id} }) || is_pending($d->{ $alice_new->{id} }), 'alice: new gist has a deal');
my @alice_all = ($alice_new, @alice);
ok(GistTest::pipedrive_wait($pd, 'alice', ids(@alice_all), 15), 'alice: 4th deal created');
ok(wait_idle($ng), 'alice: idle again');
GistTest::pipedrive_exactly_once_ok($pd, 'alice', ids(@alice_all), 'alice: exactly 4 deals, 4 notes, 1 person');
is(scalar(my @x = $pd->requests_for('create_person')), 1, 'the person was not created again');

# --- POST answers after response_wait with "pending"; GET /user shows "created" later ---------
$pd->set_endpoint(create_deal => { delay => 2.6 });    # < timeout 3s, > response_wait 2s
my $t0 = time;
($st, $h, $body, $j) = $ng->http(POST => '/user/bob', timeout => 15);
my $took = time - $t0;
is($st, 201, 'bob: POST 201');
$d = deals_of($j);
is(scalar(grep { is_pending($d->{$_}) } @{ ids(@bob) }), 2, 'bob: deals pending while Pipedrive is slow')
    or diag $body;
ok($took >= 1.5 && $took < 3.5, sprintf('bob: POST waited about response_wait (%.2f s)', $took));
$pd->set_endpoint(create_deal => undef);
my $created = GistTest::wait_for(sub {
    my (undef, undef, undef, $g) = $ng->http(GET => '/user/bob');
    my $gd = deals_of($g);
    return 2 == grep { is_created($gd->{$_}) } @{ ids(@bob) };
}, 15, 0.2);
ok($created, 'bob: GET /user shows both deals created later');
ok(wait_idle($ng), 'bob: idle');
GistTest::pipedrive_exactly_once_ok($pd, 'bob', ids(@bob), 'bob: exactly 2 deals, 2 notes, 1 person');
($st, undef, $body, $j) = $ng->http(GET => '/user/bob');
$gd = deals_of($j);
is(scalar(grep { ($gd->{$_}{id} // -1) == (stub_deal_id($pd, $_) // -2) } @{ ids(@bob) }), 2,
   'bob: GET ids are the stub\'s');

# --- gist_pipedrive_existing_gists skip ----------------------------------------------------------
($st, undef, $body, $j) = $ng_skip->http(POST => '/user/carol', timeout => 15);
is($st, 201, 'skip: carol POST 201');
is(scalar @{ $j->{new_gists} || [] }, 2, 'skip: both gists reported new');
$d = deals_of($j);
is(scalar(grep { exists $d->{$_} && !defined $d->{$_} } @{ ids(@carol) }), 2,
   'skip: first scan: "deal": null for the gists the user already had') or diag $body;
ok(!grep({ /^skip:deal:/ } $redis->all_keys('skip:*')), 'skip: no job hash for them');
($st, undef, $body, $j) = $ng_skip->http(GET => '/user/carol');
$gd = deals_of($j);
is(scalar(grep { exists $gd->{$_} && !defined $gd->{$_} } @{ ids(@carol) }), 2, 'skip: GET shows "deal": null');
sleep 1;
is(scalar(my @y = $pd_skip->requests), 0, 'skip: Pipedrive got nothing for the first scan');

$gh->set_user(carol => { gists => [$carol_new, @carol] });
($st, undef, $body, $j) = $ng_skip->http(POST => '/user/carol', timeout => 15);
is($st, 200, 'skip: carol second POST 200');
is_deeply(ids(@{ $j->{new_gists} || [] }), [$carol_new->{id}], 'skip: the later gist is new');
$d = deals_of($j);
ok(is_created($d->{ $carol_new->{id} }) || is_pending($d->{ $carol_new->{id} }), 'skip: the later gist has a deal')
    or diag $body;
is(scalar(grep { exists $d->{$_} && !defined $d->{$_} } @{ ids(@carol) }), 2, 'skip: the old ones still null');
ok(GistTest::pipedrive_wait($pd_skip, 'carol', [$carol_new->{id}], 15), 'skip: one deal for the later gist');
ok(wait_idle($ng_skip), 'skip: idle');
GistTest::pipedrive_exactly_once_ok($pd_skip, 'carol', [$carol_new->{id}], 'skip: exactly 1 deal, 1 note, 1 person');
is(scalar(my @z = $pd_skip->deals), 1, 'skip: no deal for the skipped gists');

# untrack + re-track under skip: nothing new, no new deal
($st) = $ng_skip->http(DELETE => '/user/carol');
($st, undef, $body, $j) = $ng_skip->http(POST => '/user/carol', timeout => 15);
is($st, 201, 'skip: carol re-tracked 201');
is(scalar @{ $j->{new_gists} || [] }, 0, 'skip: re-tracked, nothing new');
$d = deals_of($j);
ok(is_created($d->{ $carol_new->{id} }), 'skip: re-tracked: the later gist shows its deal');
sleep 0.5;
is(scalar(my @w = $pd_skip->deals), 1, 'skip: still one deal');

# --- no Pipedrive directives: deals are off ---------------------------------------------------
my $seen_before = scalar(my @r1 = $pd->requests) + scalar(my @r2 = $pd_skip->requests);
($st, undef, $body, $j) = $ng_off->http(POST => '/user/dave', timeout => 15);
is($st, 201, 'off: POST 201');
$d = deals_of($j);
is(scalar(grep { exists $d->{$_} && !defined $d->{$_} } @{ ids(@dave) }), 2, 'off: "deal": null in POST')
    or diag $body;
($st, undef, $body, $j) = $ng_off->http(GET => '/user/dave');
$gd = deals_of($j);
is(scalar(grep { exists $gd->{$_} && !defined $gd->{$_} } @{ ids(@dave) }), 2, 'off: "deal": null in GET');
($st, undef, $body, $j) = $ng_off->http(GET => '/health');
is($st, 200, 'off: /health 200');
is($j->{pipedrive}, 'off', 'off: /health "pipedrive":"off"') or diag $body;
is($j->{status}, 'ok', 'off: /health status ok');
ok(!grep({ /^off:(?:deal|deals|persons|pdlock)/ } $redis->all_keys('off:*')), 'off: no deal keys in Redis');
sleep 0.5;
is(scalar(my @r3 = $pd->requests) + scalar(my @r4 = $pd_skip->requests), $seen_before,
   'off: no Pipedrive request');

# --- logs, contract -------------------------------------------------------------------------
$_->stop for $ng, $ng_skip, $ng_off;
$_->no_alerts for $ng, $ng_skip, $ng_off;
for my $n ($ng, $ng_skip) {
    my $log = $n->error_log;
    ok(index($log, $pd->token) < 0, 'the Pipedrive token is not in ' . $n->error_log_path);
}
GistTest::pipedrive_contract_ok([$pd, $pd_skip], 'pipedrive_deals.t');

done_testing;
