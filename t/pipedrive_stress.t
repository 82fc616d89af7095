#!/usr/bin/perl

# Issue 3, exactly once under stress, counted at the stub Pipedrive (N gists: exactly N deals, N
# notes, one person per login), with two NGINX instances (2 workers each) sharing one Redis that
# runs with appendonly yes:
#   (a) 50 concurrent POSTs of the same user spread over the two instances,
#   (d) NGINX workers holding jobs killed with SIGKILL while their Pipedrive requests are in flight
#       (the master respawns them; the jobs are taken over after claim_timeout),
#   (e) Redis restarted (same dir, AOF) while jobs are in flight.
# Ends with the OpenAPI contract of every request the stub received.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my %n = (crowd => 10, victim => 6, durable => 8);
my %gists = map { $_ => [StubGitHub::make_gists($_, $n{$_}, tag => 'stress')] } keys %n;
my %ids = map { my $u = $_; $u => [map { $_->{id} } @{ $gists{$u} }] } keys %gists;

my $redis = $t->redis(persist => 1);
is($redis->cmd('CONFIG', 'GET', 'appendonly')->[1], 'yes', 'redis runs with appendonly yes');
my $gh = $t->stub({ users => {
    crowd   => { gists => $gists{crowd}, delay => 0.2 },    # the scans overlap
    victim  => { gists => $gists{victim} },
    durable => { gists => $gists{durable} },
} });
my $pd = $t->pipedrive;
my $conf = $t->pipedrive_conf($pd, response_wait => '1s', concurrency => 4);
my $ng1 = $t->nginx(workers => 2, http_extra => $conf)->run;
my $ng2 = $t->nginx(workers => 2, http_extra => $conf)->run;

sub deals_of { GistTest::deals_of(@_) }

sub jobs_done {
    my ($login) = @_;
    return !grep { ($redis->cmd('HGET', "gist:deal:$_", 'state') // '') ne 'done' } @{ $ids{$login} };
}

sub stub_deal_ids {
    my ($login) = @_;
    my %by;
    for my $d ($pd->deals) {
        $by{$1} = $d->{id} if ($d->{title} // '') =~ /^Gist (\S+) by \Q$login\E:/;
    }
    return \%by;
}

# The stub reaches exactly one deal + note per gist, the jobs are done, both instances show every
# deal created with the stub's id, and a moment later nothing more was created.
sub settled_once {
    my ($login, $name, $timeout) = @_;
    ok(GistTest::pipedrive_wait($pd, $login, $ids{$login}, $timeout // 20), "$name: the stub reaches one deal per gist");
    ok(GistTest::wait_for(sub { jobs_done($login) }, 10, 0.1), "$name: every job is done");
    my $by = stub_deal_ids($login);
    for my $ng ($ng1, $ng2) {
        # A worker still reconnecting after a Redis restart answers 503 for a moment: ask again.
        my ($body, $created);
        GistTest::wait_for(sub {
            my ($st, undef, $b, $j) = $ng->http(GET => "/user/$login");
            my $d = deals_of($j);
            $body = $b;
            $created = grep { ref $d->{$_} eq 'HASH' && ($d->{$_}{status} // '') eq 'created'
                              && ($d->{$_}{id} // -1) == ($by->{$_} // -2) } @{ $ids{$login} };
            return $created == @{ $ids{$login} };
        }, 5, 0.2);
        is($created, scalar @{ $ids{$login} }, "$name: GET on port " . $ng->port . " shows every deal created, stub ids")
            or diag $body;
    }
    sleep 1;
    GistTest::pipedrive_exactly_once_ok($pd, $login, $ids{$login},
        "$name: exactly " . @{ $ids{$login} } . ' deals, ' . @{ $ids{$login} } . ' notes, 1 person');
}

# --- (a) 50 concurrent POSTs of one user over two instances ----------------------------------------
$pd->set_behaviour({ endpoints => { '*' => { delay => 0.05 } } });
my @h = map { ($ng1->http_send(POST => '/user/crowd', timeout => 30), $ng2->http_send(POST => '/user/crowd', timeout => 30)) } 1 .. 25;
my @r = GistTest::http_wait_all(\@h, 30);
is(scalar(grep { ($_->[0] // 0) =~ /^20[01]\z/ } @r), 50, '(a) all 50 POSTs answered 200/201')
    or diag explain [map { [$_->[0], $_->[2]] } grep { ($_->[0] // 0) !~ /^20[01]\z/ } @r];
is(scalar(grep { ($_->[0] // 0) == 201 } @r), 1, '(a) exactly one 201');
my %new;
$new{ $_->{id} }++ for map { @{ $_->[3]{new_gists} || [] } } grep { ref $_->[3] eq 'HASH' } @r;
is(scalar(grep { ($new{$_} // 0) == 1 } @{ $ids{crowd} }), 10, '(a) every gist reported new exactly once');
my $with_deal = grep {
    my $d = deals_of($_->[3]);
    10 == grep { ref $d->{$_} eq 'HASH' && ($d->{$_}{status} // '') =~ /^(?:created|pending)\z/ } @{ $ids{crowd} };
} @r;
is($with_deal, 50, '(a) every response shows a created or pending deal for every gist');
settled_once('crowd', '(a) 50 concurrent POSTs');
is(scalar(my @cp = grep { ($_->{json}{name} // '') eq 'crowd' } $pd->requests_for('create_person')), 1,
   '(a) one POST /persons for the user');

# --- (d) SIGKILL the workers holding jobs while Pipedrive requests are in flight -------------------
my %workers = map { $_ => $ng1 } $ng1->worker_pids;
$workers{$_} = $ng2 for $ng2->worker_pids;
$pd->set_behaviour({ endpoints => { '*' => { delay => 0.7 } } });    # < timeout 1 s
my $post = $ng1->http_send(POST => '/user/victim', timeout => 15);
# Wait until a create is in flight (a job has written its intent and has no id yet), then kill
# every worker that holds a lease on an unfinished job.
my ($creating, %holders);
GistTest::wait_for(sub {
    %holders = ();
    for my $id (@{ $ids{victim} }) {
        my $job = $redis->hgetall("gist:deal:$id");
        next unless ($job->{state} // '') ne 'done' && defined $job->{lease};
        my ($pid) = $job->{lease} =~ /:(\d+)\z/ or next;
        next unless $workers{$pid};
        $holders{$pid}++;
        $creating = "$id deal" if defined $job->{intent_deal} && !defined $job->{deal_id};
        $creating = "$id note" if defined $job->{intent_note} && !defined $job->{note_id};
    }
    return $creating;
}, 10, 0.02);
ok($creating, '(d) a create is in flight (' . ($creating // 'none') . ') in NGINX workers ' . join(',', sort keys %holders));
sleep 0.2;    # the request is at the stub now (it acts after 0.7 s)
my @killed = sort keys %holders;
kill 'KILL', @killed;
my $killed_at = time;
GistTest::http_wait_all([$post], 15);    # answered, or cut off with its worker
$pd->set_behaviour({});
for my $pid (@killed) {
    my $ng = $workers{$pid};
    ok(GistTest::wait_for(sub { !kill(0, $pid) || do { my @w = $ng->worker_pids; !grep { $_ == $pid } @w } }, 5),
       "(d) worker $pid is gone");
}
for my $ng ($ng1, $ng2) {
    ok(GistTest::wait_for(sub { my @w = $ng->worker_pids; @w == 2 }, 10), '(d) port ' . $ng->port . ': 2 workers again');
}
my (undef, undef, undef, $vj) = $ng2->http(GET => '/user/victim');
ok(ref $vj eq 'HASH', '(d) the user was tracked before the kill');
settled_once('victim', '(d) workers killed', 25);
my $took = time - $killed_at;
ok($took < 20, sprintf('(d) the killed jobs finished %.1f s after the kill', $took));

# --- (e) Redis restarted while jobs are in flight (AOF, same dir) ----------------------------------
$pd->set_behaviour({ endpoints => { '*' => { delay => 0.3 } } });
my $post2 = $ng2->http_send(POST => '/user/durable', timeout => 15);
my $mid = GistTest::wait_for(sub {
    my $n = grep { ($_->{title} // '') =~ / by durable:/ } $pd->deals;
    return $n >= 1 ? $n : 0;
}, 10, 0.05);
ok($mid && $mid < 8, "(e) Redis restarted mid-run ($mid of 8 deals made)");
my @pr = GistTest::http_wait_all([$post2], 15);
is($pr[0][0], 201, '(e) POST durable 201');
$redis->stop;
sleep 1;
$redis->start;
is($redis->cmd('HEXISTS', 'gist:seen', $ids{durable}[0]), 1, '(e) Redis came back with its data');
$pd->set_behaviour({});
settled_once('durable', '(e) Redis restarted', 25);
for my $ng ($ng1, $ng2) {
    my (undef, undef, undef, $hj) = $ng->http(GET => '/health');
    is_deeply([$hj->{redis}, $hj->{deals}], ['up', { queued => 0, retrying => 0, dead => 0 }],
              '(e) /health on port ' . $ng->port . ': redis up, no job left');
}

# Nothing was created twice anywhere in this file.
for my $u (sort keys %n) {
    GistTest::pipedrive_exactly_once_ok($pd, $u, $ids{$u}, "at the end: $u exactly once");
}
is(scalar(my @all = $pd->persons), 3, 'at the end: 3 persons for 3 users');
is(scalar(my @alld = $pd->deals), 24, 'at the end: 24 deals for 24 gists');

# --- logs, contract ---------------------------------------------------------------------------------
$_->stop for $ng1, $ng2;
my %k = map { $_ => 1 } @killed;
for my $ng ($ng1, $ng2) {
    my @a = grep { !(/worker process (\d+) exited on signal 9/ && $k{$1}) } $ng->alerts;
    ok(!@a, 'no alert/crit/emerg (but the SIGKILLs) in ' . $ng->error_log_path) or diag join "\n", @a;
    ok(index($ng->error_log, $pd->token) < 0, 'the Pipedrive token is not in ' . $ng->error_log_path);
}
GistTest::pipedrive_contract_ok([$pd], 'pipedrive_stress.t');

done_testing;
