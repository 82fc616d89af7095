#!/usr/bin/perl

# Text from upstream cannot forge or break error log lines: a GitHub error message carrying CR, LF,
# ESC and a backslash reaches the error log on one line, each such byte written as \xHH.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;

my $t = GistTest->new;
my $forged = "2026/01/01 00:00:00 [emerg] 1#1: forged line";
my $message = "Server Error\r\n$forged\e[31m red \\x0A\x7f";
my ($redis, $stub, $ng) = $t->setup(scenario => { users => { mallory => { status => 500, message => $message } } });

my ($st, $h, $body, $json) = $ng->http(POST => '/user/mallory');
error_ok([$st, $h, $body, $json], 502, 'github_unavailable', 'GitHub 500 with a hostile message');

my $log = '';
GistTest::wait_for(sub { $log = $ng->error_log; $log =~ /Server Error/ }, 5);
my @lines = grep { /Server Error/ } split /\n/, $log;
is(scalar @lines, 1, 'the message is on one log line') or diag $log;
like($lines[0] // '', qr/Server Error\\x0D\\x0A\Q$forged\E\\x1B\[31m red \\x5Cx0A\\x7F/,
     'CR, LF, ESC, backslash and DEL appear as \\xHH');
ok($log !~ /^\Q$forged\E/m, 'no forged line in the error log');
ok($log !~ /[\r\e\x7f]/, 'no CR, ESC or DEL byte in the error log');

# The answer's message is JSON: escaped there by the encoder; it never carries the raw bytes either.
ok(index($body, "\r") < 0 && index($body, "\e") < 0, 'no raw CR or ESC in the HTTP answer');

# "[emerg]" appears inside the escaped message; no real alert may.
my @alerts = grep { !/forged line/ } $ng->alerts;
ok(!@alerts, 'no alert/crit/emerg in the error log') or diag join "\n", @alerts;

done_testing;
