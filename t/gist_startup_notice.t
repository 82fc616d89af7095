#!/usr/bin/perl

# Whether deals and rescans are on is said once per start (and once per reload) in the error
# log, by one worker, not by every worker, and not by "nginx -t"; rescans that cannot run
# (no token: 60 requests an hour, at or below the reserve) are warned about.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;

my $t = GistTest->new;
my ($redis, $stub, $ng) = $t->setup(workers => 2);

sub notices { my @n = grep { /gist: Pipedrive deals are off \(no "gist_pipedrive_api_url"\), rescans off/ } split /\n/, $ng->error_log; scalar @n }

ok(GistTest::wait_for(sub { notices() >= 1 }, 5), 'the start says that deals and rescans are off');
is(notices(), 1, 'said once, not once per worker');
my ($rc, $out) = $ng->check_conf;
is($rc, 0, 'nginx -t passes');
unlike($out, qr/deals are/, 'nginx -t does not say it');
$ng->reload;
ok(GistTest::wait_for(sub { notices() == 2 }, 5), 'a reload says it once more');

# Rescans without a token: GitHub's 60 requests an hour never exceed the default reserve (100).
my (undef, undef, $ng2) = $t->setup(workers => 1, http_extra => "    gist_rescan_interval 1m;\n");
ok(GistTest::wait_for(sub { $ng2->error_log =~ /\[warn\].*rescans without "gist_github_token_file".*will not run/ }, 5),
   'rescans without a token and a reserve of 60 or more: a warning says they will not run');
my (undef, undef, $ng3) = $t->setup(workers => 1,
    http_extra => "    gist_rescan_interval 1m;\n    gist_github_rate_reserve 10;\n");
ok(GistTest::wait_for(sub { $ng3->error_log =~ /rescans on/ }, 5), 'with a reserve below 60 rescans start');
unlike($ng3->error_log, qr/will not run/, 'and no warning');

done_testing;
