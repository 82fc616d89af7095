#!/usr/bin/perl

# Login validation (GitHub's rule: 1 to 39 characters, letters, digits, single inner hyphens):
# invalid logins are answered 400 invalid_login without calling GitHub or touching Redis;
# valid edge cases do reach GitHub.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @valid = ('a', 'Z', '0', 'a-b', 'a-b-c-d', 'A1-b2', '9' x 39, ('a-' x 19) . 'a',
              ('AbCdEfGhIj' x 3) . 'klmnopqrs');
my %users = map { lc($_) => { gists => [] } } @valid;
# users the stub would answer if it were (wrongly) asked
$users{$_} = { gists => [] } for qw(bad a_b a--b ab);

my ($redis, $stub, $ng) = $t->setup(scenario => { users => \%users });

my @invalid = (
    ['-bad',          'leading hyphen'],
    ['bad-',          'trailing hyphen'],
    ['a--b',          'double hyphen'],
    ['a' x 40,        '40 characters'],
    ['a_b',           'underscore'],
    ['a.b',           'dot'],
    ['a%20b',         'space'],
    ['%C3%BCber',     'non-ASCII letter'],
    ['a%2Fb',         'encoded slash'],
    ['ab%2e%2e',      'dots (encoded)'],
    ['a;b',           'semicolon'],
    ['a+b',           'plus'],
    ['a/b',           'two path segments'],
    ['-',             'lone hyphen'],
    ['',              'empty login'],
);

for my $c (@invalid) {
    my ($login, $what) = @$c;
    for my $m (qw(POST)) {
        error_ok([$ng->http($m => "/user/$login")], 400, 'invalid_login', "$m /user/$login ($what): 400 invalid_login");
    }
}

# NGINX itself handles these before the module: "/user/%2e%2e" resolves to "/" (outside the gist
# location), and an encoded NUL is a 400 Bad Request. Never a scan.
for my $uri ('/user/%2e%2e', '/user/a%00b') {
    my ($st, $h, $body) = $ng->http(POST => $uri);
    ok(defined $st && $st >= 400 && $st < 500, "POST $uri: a 4xx (" . ($st // 'none') . ')');
}

is(scalar(my @r = $stub->requests), 0, 'GitHub never called for an invalid login');
is_deeply([GistTest::state_keys($redis)], [], 'Redis untouched by invalid logins');

# Valid edge cases reach GitHub.
for my $login (@valid) {
    my ($st, $h, $body, $j) = $ng->http(POST => "/user/$login");
    is($st, 201, "POST /user/$login (valid, length " . length($login) . "): 201");
}
is(scalar(my @r2 = $stub->requests), scalar @valid, 'one GitHub request per valid login');

$ng->stop;
$ng->no_alerts;

done_testing;
