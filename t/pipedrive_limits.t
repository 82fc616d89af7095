#!/usr/bin/perl

# Bounded growth of the deal outbox: a user with more new gists in one scan than
# gist_pipedrive_max_deals_per_scan gets a deal for each of the first ones and one summary deal for
# the rest (opened once: rescans add none); finished jobs keep only state and deal id and expire,
# while GET /user still shows every deal; deals:dead keeps gist_pipedrive_dead_letters_max
# entries. nginx -t checks the three directives.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $t = GistTest->new;

# --- nginx -t --------------------------------------------------------------------------------
{
    my $ng = $t->nginx(vars => { REDISPORT => 6390, STUB => 'http://127.0.0.1:9' });
    my $conf_path = $ng->conf_path;
    my $pd = "    gist_pipedrive_api_url https://acme.pipedrive.com;\n    gist_pipedrive_token_file "
        . $t->write_file('pd_token', "pd_limits_token_0123456789\n", 0600) . ";\n";
    $ng->set_conf(GistTest::standard_conf(http_extra => $pd . "    gist_pipedrive_max_deals_per_scan 0;\n"
        . "    gist_pipedrive_dead_letters_max 1;\n    gist_pipedrive_done_job_ttl 2d;\n"));
    my ($rc, $out) = $ng->check_conf;
    is($rc, 0, 'good values pass nginx -t') or diag $out;
    for my $bad ('gist_pipedrive_max_deals_per_scan -1', 'gist_pipedrive_max_deals_per_scan many',
                 'gist_pipedrive_dead_letters_max 0', 'gist_pipedrive_done_job_ttl soon') {
        $ng->set_conf(GistTest::standard_conf(http_extra => "$pd    $bad;\n"));
        my ($rc, $out) = $ng->check_conf;
        my ($name) = $bad =~ /^(\S+)/;
        my $line = $ng->conf_line(qr/\Q$name\E/);
        isnt($rc, 0, "$bad: nginx -t fails");
        like($out, qr/\[emerg\] .* in \Q$conf_path\E:$line\b/, "$bad: [emerg] at its line") or diag $out;
    }
}

# --- a summary deal past the limit ----------------------------------------------------------------
my @alice = StubGitHub::make_gists('alice', 6, tag => 'lim');    # newest first
my @bob = StubGitHub::make_gists('bob', 3, tag => 'lim');
my $redis = $t->redis;
my $gh = $t->stub({ users => { alice => { gists => \@alice }, bob => { gists => \@bob } } });
my $pd = $t->pipedrive;
my $ng = $t->nginx(http_extra => $t->pipedrive_conf($pd, response_wait => '3s')
    . "    gist_pipedrive_max_deals_per_scan 3;\n    gist_pipedrive_dead_letters_max 2;\n"
    . "    gist_pipedrive_done_job_ttl 1h;\n")->run;

sub ids { map { $_->{id} } @_ }
sub alice_deals { grep { ($_->{title} // '') =~ / by alice: / } $pd->deals }

my ($st, $h, $body, $j) = $ng->http(POST => '/user/alice', timeout => 15);
is($st, 201, 'alice: POST 201');
my ($own, $rest) = ([ids(@alice[0 .. 2])], [ids(@alice[3 .. 5])]);
ok(GistTest::wait_for(sub { alice_deals() == 4 && $pd->notes == 4 }, 15, 0.2), 'alice: 4 deals and 4 notes')
    or diag join "\n", map { $_->{title} } $pd->deals;
for my $id (@$own) {
    is(scalar(grep { $_->{title} =~ /^Gist \Q$id\E by alice: / } $pd->deals), 1, "alice: one deal of its own for $id");
}
my @summary = grep { $_->{title} eq "Gist $rest->[0] by alice: 3 new gists in one scan (summary)" } $pd->deals;
is(scalar @summary, 1, 'alice: one summary deal, titled after the first of the rest');
my ($note) = grep { ($_->{deal_id} // 0) == ($summary[0]{id} // -1) } $pd->notes;
for my $id (@$rest) {
    like($note->{content} // '', qr{<a href="https://gist\.github\.com/\Q$id\E">\Q$id\E</a>}, "summary note links $id");
}
my $persons = grep { ($_->{name} // '') eq 'alice' } $pd->persons;
is($persons, 1, 'alice: one person');
is($summary[0]{person_id}, (grep { ($_->{name} // '') eq 'alice' } $pd->persons)[0]{id}, 'summary deal on that person');

# GET /user: every gist shows its deal; the rest show the summary's.
my $shown;
GistTest::wait_for(sub {
    (undef, undef, undef, $j) = $ng->http(GET => '/user/alice');
    $shown = GistTest::deals_of($j);
    !grep { ref $shown->{$_} ne 'HASH' || ($shown->{$_}{status} // '') ne 'created' } ids(@alice);
}, 10, 0.2);
for my $id (@$rest) {
    is_deeply($shown->{$id}, { status => 'created', id => $summary[0]{id} }, "GET /user: $id shows the summary deal");
}
for my $id (@$own) {
    my ($deal) = grep { $_->{title} =~ /^Gist \Q$id\E by / } $pd->deals;
    is_deeply($shown->{$id}, { status => 'created', id => $deal->{id} }, "GET /user: $id shows its deal");
}

# Finished jobs: trimmed and expiring; the deal ids stay.
for my $id (@$own, $rest->[0]) {
    my %h = @{ $redis->cmd('HGETALL', "gist:deal:$id") };
    ok($h{state} eq 'done' && $h{deal_id} =~ /^\d+\z/, "deal:$id keeps state and deal id");
    my @heavy = grep { exists $h{$_} } qw(title note intent_person intent_deal intent_note lease lease_until error);
    is("@heavy", '', "deal:$id drops title, note, intents and lease");
    my @other = grep { !/^(?:state|deal_id|login|person_id|note_id|attempts|done_at)\z/ } keys %h;
    is("@other", '', "deal:$id keeps nothing else");
    my $ttl = $redis->cmd('TTL', "gist:deal:$id");
    ok($ttl > 3500 && $ttl <= 3600, "deal:$id expires in 1h (TTL $ttl)");
}
is($redis->cmd('HLEN', 'gist:deals:done'), 4, 'deals:done holds the 4 deal ids');
$redis->cmd('DEL', map { "gist:deal:$_" } @$own, $rest->[0]);    # as if a month had passed
(undef, undef, undef, $j) = $ng->http(GET => '/user/alice');
$shown = GistTest::deals_of($j);
is(scalar(grep { ref $shown->{$_} eq 'HASH' && $shown->{$_}{status} eq 'created' } ids(@alice)), 6,
   'after the hashes expired GET /user still shows all 6 deals');

# Rescans: no second summary; one new gist is one more deal.
($st) = $ng->http(POST => '/user/alice', timeout => 15);
is($st, 200, 'alice: second POST 200');
my $fresh = StubGitHub::make_gist(id => 'a1a1a1a1a1', login => 'alice', created_at => '2031-01-01T00:00:00Z');
$gh->set_user(alice => { gists => [$fresh, @alice] });
($st, $h, $body, $j) = $ng->http(POST => '/user/alice', timeout => 15);
is($st, 200, 'alice: POST with one new gist');
ok(GistTest::wait_for(sub { alice_deals() == 5 }, 10, 0.2), 'alice: one more deal');
sleep 1;
is(scalar(alice_deals()), 5, 'alice: 5 deals in all (4 + 1), no second summary');
is(scalar(grep { $_->{title} =~ /\(summary\)\z/ } $pd->deals), 1, 'still one summary deal');

# --- dead letters are trimmed -------------------------------------------------------------------
$pd->set_endpoint(create_deal => { fail => { status => 422, error => 'Validation failed' } });
($st) = $ng->http(POST => '/user/bob', timeout => 15);
is($st, 201, 'bob: POST 201');
ok(GistTest::wait_for(sub {
    (undef, undef, undef, $j) = $ng->http(GET => '/user/bob');
    my $d = GistTest::deals_of($j);
    3 == grep { ref $d->{$_} eq 'HASH' && $d->{$_}{status} eq 'failed' } ids(@bob);
}, 15, 0.2), 'bob: all 3 deals failed (422)');
is($redis->cmd('LLEN', 'gist:deals:dead'), 2, 'deals:dead trimmed to gist_pipedrive_dead_letters_max 2');

$ng->no_alerts;
GistTest::pipedrive_contract_ok([$pd], 'pipedrive_limits.t: the summary deal and note follow the contract too');

done_testing;
