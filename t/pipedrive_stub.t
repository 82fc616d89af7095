#!/usr/bin/perl

# Tests of the test harness itself: the stub Pipedrive (endpoints, envelopes, auth, shared state
# across forks, eventual consistency, request log and every failure mode). Needs no module.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp ();
use HTTP::Tiny;
use JSON::PP ();
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

use StubPipedrive;

my $JSON = JSON::PP->new->utf8->canonical;
my $dir = File::Temp::tempdir('pd-stub-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $pd = StubPipedrive->new(dir => $dir, token => 'tok-123');
my $base = $pd->url;
my %auth = ('x-api-token' => 'tok-123');

sub call {
    my ($method, $path, %o) = @_;
    my $http = HTTP::Tiny->new(timeout => $o{timeout} // 10, keep_alive => 0);
    my %h = (Accept => 'application/json', %{ $o{headers} // \%auth });
    my %args = (headers => \%h);
    if (exists $o{json}) {
        $args{content} = $JSON->encode($o{json});
        $h{'Content-Type'} //= 'application/json';
    } elsif (exists $o{content}) {
        $args{content} = $o{content};
    }
    my $t0 = time;
    my $r = $http->request($method, "$base$path", \%args);
    my $j = eval { $JSON->decode($r->{content}) };
    return { status => $r->{status}, headers => $r->{headers}, body => $r->{content}, json => $j,
             elapsed => time - $t0 };
}

sub envelope_ok {
    my ($r, $status, $name) = @_;
    is($r->{status}, $status, "$name: status $status");
    ok($r->{json} && $r->{json}{success} == 0 && defined $r->{json}{error}
       && exists $r->{json}{data} && !defined $r->{json}{data}, "$name: Pipedrive error envelope");
}

# --- auth -----------------------------------------------------------------------------------
envelope_ok(call(GET => '/api/v2/persons/search?term=x&exact_match=true', headers => {}), 401,
            'no token');
envelope_ok(call(GET => '/api/v2/persons/search?term=x&exact_match=true&api_token=tok-123',
                 headers => {}), 401, 'token only in the query');
my $r = call(POST => '/api/v2/persons', json => { name => 'x' }, headers => { 'x-api-token' => 'nope' });
envelope_ok($r, 401, 'wrong token');
is($r->{json}{errorCode}, 401, '401 carries errorCode like Pipedrive');
is(scalar $pd->persons, 0, 'nothing created without auth');

# --- persons --------------------------------------------------------------------------------
$r = call(GET => '/api/v2/persons/search?term=octocat&fields=name&exact_match=true');
is($r->{status}, 200, 'person search 200');
is_deeply($r->{json}{data}{items}, [], 'no person yet: empty items');
ok($r->{json}{success}, 'success: true');
is($r->{headers}{'x-ratelimit-limit'}, 10, 'search burst limit header');

$r = call(POST => '/api/v2/persons', json => { name => 'octocat' });
is($r->{status}, 200, 'create person 200');
my $person_id = $r->{json}{data}{id};
is($person_id, 101, 'realistic first person id');
is($r->{json}{data}{name}, 'octocat', 'person name');
is($r->{headers}{'x-ratelimit-limit'}, 80, 'burst limit header');
$r = call(GET => '/api/v2/persons/search?term=OctoCat&fields=name&exact_match=true');
is($r->{json}{data}{items}[0]{item}{id}, $person_id, 'exact match is case-insensitive');
$r = call(GET => '/api/v2/persons/search?term=octo&fields=name&exact_match=true');
is_deeply($r->{json}{data}{items}, [], 'exact match does not match a prefix');
envelope_ok(call(POST => '/api/v2/persons', json => {}), 400, 'person without name');

# --- deals ----------------------------------------------------------------------------------
my $gid = 'aa5a315d61ae9438b18d';
$r = call(POST => '/api/v2/deals', json => { title => "Gist $gid by octocat: hello", person_id => $person_id,
                                            value => 10, currency => 'USD' });
is($r->{status}, 200, 'create deal 200');
my $deal_id = $r->{json}{data}{id};
is($deal_id, 5001, 'realistic first deal id');
is($r->{json}{data}{person_id}, $person_id, 'deal person_id');
is($r->{json}{data}{status}, 'open', 'deal status open');
envelope_ok(call(POST => '/api/v2/deals', json => { person_id => $person_id }), 400, 'deal without title');
envelope_ok(call(POST => '/api/v2/deals', json => { title => 't', person_id => "$person_id" }), 400,
            'person_id as a string');
envelope_ok(call(POST => '/api/v2/deals', json => { title => 't', person_id => 99999 }), 404,
            'unknown person');
envelope_ok(call(POST => '/api/v2/deals', content => 'title=t',
                 headers => { %auth, 'Content-Type' => 'application/x-www-form-urlencoded' }), 415,
            'form body');
is(scalar $pd->deals, 1, 'invalid requests created nothing');

$r = call(GET => "/api/v2/deals/search?term=$gid&fields=title&exact_match=false");
is($r->{status}, 200, 'deal search 200');
is(scalar @{ $r->{json}{data}{items} }, 1, 'deal found by gist id');
is($r->{json}{data}{items}[0]{item}{title}, "Gist $gid by octocat: hello", 'search item title');
is($r->{json}{data}{items}[0]{item}{person}{id}, $person_id, 'search item person');
$r = call(GET => "/api/v2/deals/search?term=$gid&fields=title&exact_match=false&person_id=1");
is_deeply($r->{json}{data}{items}, [], 'person_id filter');

# --- notes ----------------------------------------------------------------------------------
$r = call(POST => '/api/v1/notes', json => { content => '<p>x</p>', deal_id => $deal_id });
is($r->{status}, 201, 'create note 201');
is($r->{json}{data}{deal_id}, $deal_id, 'note deal_id');
is($r->{json}{data}{id}, 90001, 'realistic note id');
envelope_ok(call(POST => '/api/v1/notes', json => { content => 'x', deal_id => 1 }), 400, 'unknown deal');
envelope_ok(call(POST => '/api/v1/notes', json => { deal_id => $deal_id }), 400, 'note without content');
is(scalar $pd->notes, 1, 'one note stored');
$r = call(GET => "/api/v1/notes?deal_id=$deal_id&limit=100");
is($r->{json}{data}[0]{content}, '<p>x</p>', 'list the deal\'s notes');
ok(!$r->{json}{additional_data}{pagination}{more_items_in_collection}, 'v1 pagination block');
$r = call(GET => '/api/v1/notes?deal_id=1');
ok(!defined $r->{json}{data}, 'no notes: data null, like v1');
is(($pd->notes)[0]{content}, '<p>x</p>', 'note content stored');

# --- unknown paths --------------------------------------------------------------------------
envelope_ok(call(POST => '/v1/deals', json => { title => 't' }), 404, 'v1 deals is not served');
envelope_ok(call(DELETE => '/api/v2/deals/search'), 405, 'known path, other method');

# --- lists (strongly consistent look-ups) ---------------------------------------------------
$r = call(GET => "/api/v2/deals?person_id=$person_id&updated_since=2000-01-01T00:00:00Z&sort_by=add_time&sort_direction=desc&limit=100");
is($r->{status}, 200, 'list deals 200');
is(ref $r->{json}{data}, 'ARRAY', 'list data is an array');
is($r->{json}{data}[0]{id}, $deal_id, 'the person\'s deal is listed');
$r = call(GET => "/api/v2/deals?person_id=$person_id&updated_since=2999-01-01T00:00:00Z");
is_deeply($r->{json}{data}, [], 'updated_since filters');
$r = call(GET => '/api/v2/persons?updated_since=2000-01-01T00:00:00Z&sort_by=add_time&sort_direction=desc');
is($r->{json}{data}[0]{name}, 'octocat', 'list persons');

# --- request log ----------------------------------------------------------------------------
my @req = $pd->requests_for('create_deal');
ok(@req >= 1, 'create_deal requests logged');
my ($first) = grep { $_->{status} && $_->{status} == 200 } @req;
is($first->{method}, 'POST', 'log: method');
is($first->{path}, '/api/v2/deals', 'log: path');
is($first->{headers}{'x-api-token'}, 'tok-123', 'log: headers (lower case)');
is($first->{json}{title}, "Gist $gid by octocat: hello", 'log: decoded body');
like($first->{body}, qr/"title"/, 'log: raw body');
my ($search) = $pd->requests_for('search_deals');
is($search->{query}{term}, $gid, 'log: decoded query');
is($search->{query}{exact_match}, 'false', 'log: query values as sent');

# --- failures: fail the next N --------------------------------------------------------------
$pd->set_endpoint(create_deal => { fail => { count => 2, status => 500 } });
is(call(POST => '/api/v2/deals', json => { title => 'f1' })->{status}, 500, 'fail 1/2: 500');
is(call(POST => '/api/v2/deals', json => { title => 'f2' })->{status}, 500, 'fail 2/2: 500');
is(call(POST => '/api/v2/deals', json => { title => 'f3' })->{status}, 200, 'then success');
is($pd->behaviour->{endpoints}{create_deal}{fail}{count}, 0, 'count consumed');
is(scalar(grep { $_->{title} =~ /^f/ } $pd->deals), 1, 'failed attempts created nothing');

$pd->set_endpoint(create_deal => { fail => { count => 1, status => 429, retry_after => 3, reset => 2 } });
$r = call(POST => '/api/v2/deals', json => { title => 'rl' });
envelope_ok($r, 429, '429');
is($r->{headers}{'retry-after'}, 3, '429 Retry-After');
is($r->{headers}{'x-ratelimit-remaining'}, 0, '429 x-ratelimit-remaining: 0');
is($r->{headers}{'x-ratelimit-reset'}, 2, '429 x-ratelimit-reset');
$pd->set_endpoint(create_deal => { fail => { count => 1, status => 429, retry_after => '' } });
$r = call(POST => '/api/v2/deals', json => { title => 'rl' });
ok(!exists $r->{headers}{'retry-after'} && $r->{headers}{'x-ratelimit-reset'} == 2,
   '429 with only x-ratelimit-reset');

for my $case ([401, undef], [403, 'feature_capping_deals_limit'], [422, undef], [502, undef]) {
    my ($st, $code) = @$case;
    $pd->set_endpoint(create_deal => { fail => { count => 1, status => $st } });
    $r = call(POST => '/api/v2/deals', json => { title => "s$st" });
    envelope_ok($r, $st, "fail with $st");
    is($r->{json}{code}, $code, "$st code") if $code;
}
$pd->set_endpoint(create_deal => { fail => { count => 1, status => 200, body => '{"success":tr' } });
$r = call(POST => '/api/v2/deals', json => { title => 'garbage' });
is($r->{status}, 200, 'garbage 200');
is($r->{body}, '{"success":tr', 'garbage body');

$pd->set_endpoint(create_deal => { fail => { count => 1, status => 500, create => 1 } });
my $before = scalar $pd->deals;
is(call(POST => '/api/v2/deals', json => { title => 'created-then-500' })->{status}, 500,
   '500 after creating');
is(scalar $pd->deals, $before + 1, 'the deal exists despite the 500');

$pd->set_endpoint('*' => { fail => { count => 1, status => 503, retry_after => 5 } });
$r = call(POST => '/api/v1/notes', json => { content => 'x', deal_id => $deal_id });
is($r->{status}, 503, "'*' applies to any endpoint");
is($r->{headers}{'retry-after'}, 5, '503 Retry-After');
$pd->set_behaviour({});

# --- accept then hang (the ambiguous case) --------------------------------------------------
$pd->set_endpoint(create_deal => { hang => { count => 1, seconds => 5 } });
$before = scalar $pd->deals;
$r = call(POST => '/api/v2/deals', json => { title => 'hung' }, timeout => 1);
is($r->{status}, 599, 'client times out');
ok($r->{elapsed} < 3, 'timed out by the client, not after the hang');
is(scalar $pd->deals, $before + 1, 'but the deal was created');
is(call(POST => '/api/v2/deals', json => { title => 'after-hang' })->{status}, 200, 'next request fine');

# --- close without answering ---------------------------------------------------------------
$pd->set_endpoint(create_deal => { close => { count => 1 } });
$before = scalar $pd->deals;
$r = call(POST => '/api/v2/deals', json => { title => 'closed' });
is($r->{status}, 599, 'connection closed without an answer');
is(scalar $pd->deals, $before, 'nothing created');
my ($closed) = grep { ($_->{action} // '') eq 'close' } $pd->requests;
ok($closed, 'logged as close');

# --- delay ----------------------------------------------------------------------------------
$pd->set_endpoint(search_persons => { delay => 0.6 });
$r = call(GET => '/api/v2/persons/search?term=octocat&fields=name&exact_match=true');
ok($r->{elapsed} >= 0.55, 'delay honoured');
is($r->{status}, 200, 'delayed answer still right');

# --- concurrency: parallel delayed requests, and ids agreed across forks --------------------
sub parallel {
    my ($n, $code) = @_;
    my @kids;
    for my $i (1 .. $n) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $ok = eval { $code->($i) };
            POSIX::_exit($ok ? 0 : 1);
        }
        push @kids, $pid;
    }
    my $fails = 0;
    for (@kids) { waitpid($_, 0); $fails++ if $? }
    return $fails;
}
$pd->set_behaviour({ endpoints => { create_person => { delay => 1 } } });
my $t0 = time;
is(parallel(8, sub { call(POST => '/api/v2/persons', json => { name => "p$_[0]" })->{status} == 200 }),
   0, '8 parallel creates succeed');
my $took = time - $t0;
ok($took < 3, sprintf('served concurrently (%.1fs for 8 x 1s)', $took));
my @ids = map { $_->{id} } grep { $_->{name} =~ /^p\d$/ } $pd->persons;
is(scalar @ids, 8, '8 persons stored');
is(scalar(keys %{ { map { $_ => 1 } @ids } }), 8, 'distinct ids across forks');
$pd->set_behaviour({});

# --- eventual consistency -------------------------------------------------------------------
$pd->set_global(search_lag => 1);
$r = call(POST => '/api/v2/persons', json => { name => 'lagging' });
my $lag_id = $r->{json}{data}{id};
$r = call(GET => '/api/v2/persons/search?term=lagging&fields=name&exact_match=true');
is_deeply($r->{json}{data}{items}, [], 'not searchable right after creation');
$r = call(GET => '/api/v2/persons?sort_by=id&sort_direction=desc&limit=1');
is($r->{json}{data}[0]{id}, $lag_id, 'but listed at once (lists are consistent)');
sleep 1.2;
$r = call(GET => '/api/v2/persons/search?term=lagging&fields=name&exact_match=true');
is($r->{json}{data}{items}[0]{item}{id}, $lag_id, 'searchable after the lag');
$pd->set_global(search_lag => 0);

# --- down: connections refused, then back ---------------------------------------------------
$pd->set_global(down => 1);
sleep 0.3;
$r = call(GET => '/api/v2/persons/search?term=x&exact_match=true', timeout => 2);
is($r->{status}, 599, 'down: no answer');
like($r->{body}, qr/refused|closed|reset/i, 'down: connection refused');
$pd->set_global(down => 0);
ok((grep { sleep 0.1; call(GET => '/api/v2/persons/search?term=x&exact_match=true')->{status} == 200 } 1 .. 30) >= 1,
   'back up: answers again on the same port');

# --- reset ----------------------------------------------------------------------------------
$pd->reset;
is(scalar $pd->deals, 0, 'reset forgets deals');
$pd->clear_requests;
is(scalar $pd->requests, 0, 'clear_requests');

$pd->stop;
done_testing;
