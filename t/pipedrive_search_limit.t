#!/usr/bin/perl

# Pipedrive allows 10 searches per 2 s per token, for the whole account: many new users at once,
# over two NGINX instances with 4 workers each, never make more than that (counted at the stub per
# 2-second window), and every user still gets exactly one person and one deal.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @logins = map { "crowd$_" } 1 .. 60;
my %gists = map { $_ => [StubGitHub::make_gists($_, 1, tag => 'searchlimit')] } @logins;

my $redis = $t->redis;
my $gh = $t->stub({ users => { map { $_ => { gists => $gists{$_} } } @logins } });
my $pd = $t->pipedrive;
my $conf = $t->pipedrive_conf($pd, response_wait => '0', concurrency => 8);
my $ng1 = $t->nginx(workers => 4, http_extra => $conf)->run;
my $ng2 = $t->nginx(workers => 4, http_extra => $conf)->run;

my @h;
my $i = 0;
for my $login (@logins) {
    push @h, (($i++ % 2) ? $ng1 : $ng2)->http_send(POST => "/user/$login", timeout => 20);
}
my @r = GistTest::http_wait_all(\@h, 30);
is(scalar(grep { ($_->[0] // 0) == 201 } @r), scalar @logins, 'every user tracked');

for my $login (@logins) {
    GistTest::pipedrive_wait($pd, $login, [map { $_->{id} } @{ $gists{$login} }], 60)
        or diag "no deal for $login in time";
}

my %per_window;
$per_window{ int($_->{time} / 2) }++ for $pd->requests_for('search_persons');
my ($worst) = sort { $b <=> $a } values %per_window;
ok(scalar(keys %per_window) >= 2, 'the searches spread over several 2-second windows');
cmp_ok($worst // 0, '<=', 10, "at most 10 person searches in any 2-second window (worst: " . ($worst // 0) . ')');

for my $login (@logins) {
    GistTest::pipedrive_exactly_once_ok($pd, $login, [map { $_->{id} } @{ $gists{$login} }],
                                        "$login: one person, one deal, one note");
}
GistTest::pipedrive_contract_ok([$pd], 'pipedrive_search_limit.t');
$_->no_alerts for $ng1, $ng2;

done_testing;
