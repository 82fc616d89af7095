#!/usr/bin/perl

# Whether deals and rescans are on is said once per start (and once per reload) in the error
# log, by one worker, not by every worker, and not by "nginx -t".

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

done_testing;
