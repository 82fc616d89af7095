#!/usr/bin/perl

# Issue 11, item 4: the operator console in a real browser. Real nginx (the console served from
# console/ by `location /`), redis, the stub GitHub and Pipedrive; t/browser/console.test.mjs
# drives Debian's chromium (headless, playwright-core) through it: track a user from the form,
# see the new gists and their deals become "created" with links into Pipedrive, make Pipedrive
# refuse deals (422), see the dead letter, fix it, Retry, untrack, API errors in words, 375 px.
# Afterwards the stub must hold exactly one deal per gist, and the links must be those deals.
# Screenshots go to $GIST_TEST_OUTPUT/console (default build/test-output/console).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Cwd ();
use File::Path ();
use Test::More;
use GistTest;
use StubGitHub;

my $ROOT = "$FindBin::Bin/..";
my $CHROMIUM = $ENV{CHROMIUM} // '/usr/bin/chromium';
my $NODE = $ENV{NODE} // '/usr/bin/node';
plan(skip_all => "$CHROMIUM missing (Debian package chromium)") unless -x $CHROMIUM;
plan(skip_all => "$NODE missing") unless -x $NODE;
plan(skip_all => 't/browser/node_modules/playwright-core missing (cd t/browser && npm ci)')
    unless -d "$ROOT/t/browser/node_modules/playwright-core";

my $t = GistTest->new;
my @octo = StubGitHub::make_gists('octo', 3, tag => 'console');
my @rita = StubGitHub::make_gists('rita', 1, tag => 'console');
my $redis = $t->redis;
my $gh = $t->stub({ users => { octo => { gists => \@octo }, rita => { gists => \@rita } } });
my $pd = $t->pipedrive;
my $console = Cwd::abs_path("$ROOT/console");
my $ng = $t->nginx(workers => 2, http_extra => $t->pipedrive_conf($pd, response_wait => '2s'),
                   server_extra => <<"EOF2")->run;
        location /deals     { gist_deals; }
        location = /metrics { gist_metrics; }
        location / {
            root $console;
            index index.html;
            include /etc/nginx/mime.types;
            add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" always;
        }
EOF2

my $shots = $ENV{GIST_TEST_OUTPUT} ? "$ENV{GIST_TEST_OUTPUT}/console" : "$ROOT/build/test-output/console";
File::Path::make_path($shots);

my $base = 'http://127.0.0.1:' . $ng->port;
my ($st, $h) = $ng->http(GET => '/app.js');
like($h->{'content-type'} // '', qr{javascript}, 'the console\'s modules are served as JavaScript');

local $ENV{BASE_URL} = $base;
local $ENV{PIPEDRIVE_URL} = $pd->url;
local $ENV{PD_BEHAVIOUR} = $pd->dir . '/behaviour.json';
local $ENV{SHOTS} = $shots;
local $ENV{CHROMIUM} = $CHROMIUM;
my $out = `cd $ROOT/t/browser && timeout 240 $NODE console.test.mjs 2>&1`;
my $rc = $? >> 8;
my %links;
for my $line (split /\n/, $out) {
    if ($line =~ /^(not )?ok - (.*?)(?: # (.*))?$/) {
        ok(!$1, "browser: $2") or diag($3 // '');
    } elsif ($line =~ /^link (\S+) (\S+)$/) {
        $links{$1} = $2;
    } else {
        diag("node: $line");
    }
}
is($rc, 0, 'the browser run passed');

# The deals the console linked to are the stub's, one per gist.
GistTest::pipedrive_exactly_once_ok($pd, 'octo', [map { $_->{id} } @octo], 'octo: exactly one deal per gist');
GistTest::pipedrive_exactly_once_ok($pd, 'rita', [map { $_->{id} } @rita],
                                    'rita: exactly one deal after a dead letter and a Retry');
my %deal_of = map { my $d = $_; ($d->{title} // '') =~ /^Gist (\S+) by / ? ($1 => $d->{id}) : () } $pd->deals;
for my $g (@octo, @rita) {
    is($links{ $g->{id} }, $pd->url . "/deal/$deal_of{ $g->{id} }", "the link of gist $g->{id} is its deal");
}
my (undef, undef, undef, $dead) = $ng->http(GET => '/deals?status=dead');
is($dead->{count}, 0, 'no dead letters left');
ok(-s "$shots/$_.png", "screenshot $_") for qw(console-users console-user console-dead-letters
                                              console-users-375px console-api-unreachable);
$ng->no_alerts;
GistTest::pipedrive_contract_ok([$pd]);

done_testing;
