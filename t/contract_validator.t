#!/usr/bin/perl

# Tests of the OpenAPI contract validator (t/lib/OpenApiContract.pm) against Pipedrive's official
# descriptions (their facts, extracted into t/data/pipedrive-openapi): it accepts the five requests the module sends and
# rejects what Pipedrive would not take. Also checks that the stub Pipedrive's request log can be
# validated as it is. Needs no module.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp ();
use HTTP::Tiny;
use JSON::PP ();
use Test::More;

use OpenApiContract;
use StubPipedrive;

my $c = OpenApiContract->new;
my $TOKEN = { 'x-api-token' => 'secret', 'Accept' => 'application/json' };
my $JSONH = { %$TOKEN, 'Content-Type' => 'application/json' };

sub violations { $c->validate(shift) }

sub accepts {
    my ($req, $name) = @_;
    my @v = violations($req);
    ok(!@v, "accepts: $name") or diag(join "\n", @v);
}

# Rejects, and at least one violation matches $re.
sub rejects {
    my ($req, $re, $name) = @_;
    my @v = violations($req);
    ok(scalar(grep { $_ =~ $re } @v), "rejects: $name") or diag("violations: " . join(' | ', @v) || 'none');
}

my $gid = 'aa5a315d61ae9438b18d';

# --- the five operations, as the module's builders make them ----------------------------------
my %ok = (
    create_deal => { method => 'POST', path => '/api/v2/deals', headers => $JSONH,
        body => qq({"currency":"EUR","owner_id":99,"person_id":101,"pipeline_id":3,"stage_id":12,)
              . qq("title":"Gist $gid by octocat: hello","value":250.5,"visible_to":3}) },
    search_persons => { method => 'GET', headers => $TOKEN,
        target => '/api/v2/persons/search?term=octocat&fields=name&exact_match=true' },
    create_person => { method => 'POST', path => '/api/v2/persons', headers => $JSONH,
        body => '{"name":"octocat","owner_id":99,"visible_to":3}' },
    search_deals => { method => 'GET', headers => $TOKEN,
        target => "/api/v2/deals/search?term=$gid&fields=title&exact_match=false&person_id=101" },
    create_note => { method => 'POST', path => '/api/v1/notes', headers => $JSONH,
        body => qq({"content":"<p>GitHub gist <a href=\\"https://gist.github.com/$gid\\">$gid</a></p>","deal_id":5001}) },
);
accepts($ok{$_}, $_) for sort keys %ok;
accepts({ method => 'GET', headers => $TOKEN, target => '/api/v2/deals?person_id=101'
          . '&updated_since=2026-08-20T11%3A55%3A00Z&sort_by=add_time&sort_direction=desc&limit=100' },
        'list a person\'s deals (ambiguous-create check)');
accepts({ method => 'GET', headers => $TOKEN, target => '/api/v2/persons'
          . '?updated_since=2026-08-20T11%3A55%3A00Z&sort_by=add_time&sort_direction=desc&limit=100' },
        'list recent persons (ambiguous-create check)');
accepts({ method => 'GET', headers => $TOKEN, target => '/api/v1/notes?deal_id=5001&limit=100' },
        'list a deal\'s notes (ambiguous note check)');
rejects({ method => 'GET', headers => $TOKEN, target => '/api/v2/persons?person_id=1' },
        qr/query parameter person_id is not documented/, 'persons list has no person_id filter');

accepts({ %{ $ok{create_deal} }, body => '{"title":"only a title"}' }, 'deal with only a title');
accepts({ %{ $ok{create_deal} }, url => 'https://example.pipedrive.com/api/v2/deals', path => undef },
        'full company-domain URL');
accepts({ %{ $ok{create_note} }, path => '/v1/notes' }, 'v1 note on the generic host form (/v1)');
accepts({ %{ $ok{search_persons} }, target => '/api/v2/persons/search?term=a%20b&fields=name,email' },
        'comma-separated fields and encoded term');
accepts({ %{ $ok{create_deal} }, json => { title => 't', probability => undef, lost_reason => undef,
                                           label_ids => [1, 2], expected_close_date => '2026-09-01',
                                           custom_fields => { abc => 1 } } },
        'nullable, arrays, dates and open objects');
accepts({ %{ $ok{create_note} }, json => { content => 'x', deal_id => 1, pinned_to_deal_flag => 1,
                                           anything => 'goes' } },
        'note allows additional properties (additionalProperties: true)');
accepts({ method => 'GET', path => '/api/v2/deals/5001', headers => $TOKEN }, 'templated path');
accepts({ method => 'GET', path => '/api/v2/persons/101', headers => { Authorization => 'Bearer abc' } },
        'oauth2 bearer satisfies the security alternatives');

# --- rejections -------------------------------------------------------------------------------
rejects({ %{ $ok{create_deal} }, method => 'PUT' }, qr/method PUT is not documented for \/deals/,
        'wrong method');
rejects({ %{ $ok{search_deals} }, method => 'DELETE' }, qr/method DELETE is not documented/,
        'DELETE on a search');
rejects({ method => 'GET', path => '/api/v2/gists', headers => $TOKEN }, qr/path \/gists is not in the v2/,
        'unknown path');
rejects({ method => 'GET', path => '/v2/deals', headers => $TOKEN }, qr/not under a documented API base/,
        'v2 is at /api/v2, not /v2');
rejects({ %{ $ok{create_deal} }, path => '/api/v1/deals' }, qr/path \/deals is not in the v1/,
        'v1 /deals (out of support) on the company domain');
rejects({ %{ $ok{create_deal} }, path => '/v1/persons' }, qr/path \/persons is not in the v1/,
        'v1 /persons (out of support)');
rejects({ %{ $ok{create_note} }, path => '/api/v2/notes' }, qr/path \/notes is not in the v2/,
        'notes do not exist in v2');
rejects({ %{ $ok{create_deal} }, body => '{"person_id":101}' }, qr/body\.title: required property missing/,
        'missing title');
rejects({ %{ $ok{create_deal} }, body => '{"title":42}' }, qr/body\.title: expected string, got integer/,
        'title as a number');
rejects({ %{ $ok{create_deal} }, body => '{"title":"t","person_id":"101"}' },
        qr/body\.person_id: expected integer, got string/, 'person_id as a string');
rejects({ %{ $ok{create_deal} }, body => '{"title":"t","value":"10"}' }, qr/body\.value: expected number/,
        'value as a string');
rejects({ %{ $ok{create_deal} }, body => '{"title":"t","stage_id":1.5}' },
        qr/body\.stage_id: expected integer, got number/, 'fractional id');
rejects({ %{ $ok{create_deal} }, body => '{"title":null}' }, qr/body\.title: null is not allowed/,
        'null title');
rejects({ %{ $ok{create_deal} }, body => '{"title":"t","label_ids":["x"]}' },
        qr/body\.label_ids\[0\]: expected integer/, 'array item type');
rejects({ %{ $ok{create_deal} }, body => '{"title":"t","expected_close_date":"01/09/2026"}' },
        qr/not a date/, 'date format');
rejects({ %{ $ok{create_deal} }, body => '{"title":"t","titel":"typo"}' },
        qr/body\.titel: property is not documented/, 'unknown top-level property (strict)');
{
    my $lenient = OpenApiContract->new(strict => 0);
    my @v = $lenient->validate({ %{ $ok{create_deal} }, body => '{"title":"t","titel":"typo"}' });
    ok(!@v, 'strict => 0 allows undeclared properties where the schema does not forbid them');
}
rejects({ %{ $ok{create_deal} }, body => '[1]' }, qr/body: expected object, got array/, 'array body');
rejects({ %{ $ok{create_deal} }, body => '{"title":' }, qr/not valid JSON/, 'broken JSON');
rejects({ %{ $ok{create_deal} }, headers => { %$TOKEN, 'Content-Type' => 'application/x-www-form-urlencoded' },
          body => 'title=t' }, qr/Content-Type application\/x-www-form-urlencoded is not documented/,
        'form-encoded body');
rejects({ %{ $ok{create_deal} }, headers => $TOKEN }, qr/no Content-Type/, 'body without Content-Type');
rejects({ %{ $ok{search_persons} }, body => '{"term":"x"}', headers => $JSONH },
        qr/a body was sent but the operation takes none/, 'body on a GET');

rejects({ %{ $ok{create_deal} }, headers => { 'Content-Type' => 'application/json' } },
        qr/no credentials: expected x-api-token header/, 'no token');
{
    my @v = violations({ method => 'GET', headers => { Accept => 'application/json' },
                         target => '/api/v2/persons/search?term=octocat&fields=name&exact_match=true&api_token=secret' });
    ok((grep { /API token in the query string/ } @v) && (grep { /no credentials/ } @v),
       'token in the query instead of the header') or diag(join ' | ', @v);
}
rejects({ %{ $ok{create_note} }, target => '/api/v1/notes?api_token=secret', path => undef },
        qr/API token in the query string/, 'token in the query even with the header');

rejects({ %{ $ok{search_persons} }, target => '/api/v2/persons/search?fields=name&exact_match=true' },
        qr/required query parameter term is missing/, 'missing term');
rejects({ %{ $ok{search_persons} }, target => '/api/v2/persons/search?term=x&exact_match=yes' },
        qr/query parameter exact_match: 'yes' is not a boolean/, 'bad boolean');
rejects({ %{ $ok{search_persons} }, target => '/api/v2/persons/search?term=x&fields=login' },
        qr/query parameter fields: 'login' is not one of/, 'bad enum');
rejects({ %{ $ok{search_deals} }, target => "/api/v2/deals/search?term=$gid&fields=title,name" },
        qr/'name' is not one of: custom_fields, notes, title/, 'bad enum in a list');
rejects({ %{ $ok{search_deals} }, target => "/api/v2/deals/search?term=$gid&person_id=abc" },
        qr/query parameter person_id: 'abc' is not an integer/, 'bad integer');
rejects({ %{ $ok{search_deals} }, target => "/api/v2/deals/search?term=$gid&exact=true" },
        qr/query parameter exact is not documented/, 'unknown query parameter');
rejects({ method => 'GET', path => '/api/v2/deals/abc', headers => $TOKEN },
        qr/path parameter id: 'abc' is not an integer/, 'bad path parameter');

rejects({ %{ $ok{create_note} }, body => '{"deal_id":5001}' }, qr/body\.content: required property missing/,
        'note without content');
rejects({ %{ $ok{create_note} }, body => '{"content":"x","deal_id":"5001"}' },
        qr/body\.deal_id: expected integer, got string/, 'note deal_id as a string');
rejects({ %{ $ok{create_note} }, body => '{"content":"x","deal_id":1,"pinned_to_deal_flag":2}' },
        qr/pinned_to_deal_flag: '2' is not one of: 0, 1/, 'enum through allOf');
rejects({ %{ $ok{create_note} }, body => '{"content":"x","lead_id":"not-a-uuid"}' }, qr/not a uuid/,
        'uuid format');
rejects({ %{ $ok{create_person} }, body => '{"name":"x","emails":[{"value":1}]}' },
        qr/body\.emails\[0\]\.value: expected string/, 'nested property type');
rejects({ method => 'POST', path => '/v1/channels', headers => $JSONH,
          body => '{"name":"x","provider_channel_id":"y"}' }, qr/addChannel\) is deprecated/,
        'deprecated operation');

# --- the stub's request log validates as it is ---------------------------------------------------
{
    my $dir = File::Temp::tempdir('pd-contract-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $pd = StubPipedrive->new(dir => $dir, token => 'secret');
    my $http = HTTP::Tiny->new(timeout => 5);
    my $J = JSON::PP->new->canonical;
    my $send = sub {
        my ($m, $p, $b) = @_;
        my $r = $http->request($m, $pd->url . $p, { headers => $b ? $JSONH : $TOKEN,
                                                    defined $b ? (content => $J->encode($b)) : () });
        return eval { $J->decode($r->{content}) } // {};
    };
    $send->(GET => '/api/v2/persons/search?term=octocat&fields=name&exact_match=true');
    my $pid = $send->(POST => '/api/v2/persons', { name => 'octocat' })->{data}{id};
    my $did = $send->(POST => '/api/v2/deals', { title => "Gist $gid by octocat: x", person_id => $pid })->{data}{id};
    $send->(GET => "/api/v2/deals/search?term=$gid&fields=title&exact_match=false");
    $send->(POST => '/api/v1/notes', { content => '<p>x</p>', deal_id => $did });
    $send->(GET => "/api/v2/deals?person_id=$pid&updated_since=2026-01-01T00%3A00%3A00Z&sort_by=add_time&sort_direction=desc&limit=100");
    $send->(POST => '/api/v2/deals', { title => 5, person_id => "$pid" });    # wrong on purpose
    my @reqs = $pd->requests;
    is(scalar @reqs, 7, 'stub recorded 7 requests');
    my @v = $c->validate_all(@reqs[0 .. 5]);
    ok(!@v, 'the six good recorded requests validate') or diag(join "\n", @v);
    @v = $c->validate($reqs[6]);
    is(scalar @v, 2, 'the bad recorded request has two violations') or diag(join "\n", @v);
    $pd->stop;
}

done_testing;
