#!/usr/bin/perl

# nginx -t refuses what would leak a token: an "http://" API URL whose host is not a loopback
# address (gist_github_api_url, gist_pipedrive_api_url), and a secret "file" that is not a regular
# file (a directory, a FIFO, a device) in gist_github_token_file, gist_pipedrive_token_file and
# gist_redis password_file=. Each refusal is "[emerg] ... in <file>:<line>" at the directive.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(mkfifo);
use Test::More;
use GistTest;

my $t = GistTest->new;
my $pd_token = 'pd_SecurityConfigToken_0123456789abcdef';
my $pd_file = $t->write_file('pd_token', "$pd_token\n", 0600);
my $gh_file = $t->write_file('gh_token', "ghp_SecurityConfigToken00000000000000\n", 0600);
my $dir = $t->subdir('a_directory');
my $fifo = "$t->{dir}/a_fifo";
mkfifo($fifo, 0600) or die "mkfifo: $!";
my $device = '/dev/zero';

my $ng = $t->nginx(vars => { REDISPORT => 6390, STUB => 'http://127.0.0.1:9' });
my $conf_path = $ng->conf_path;

# nginx -t, killed after 10 s: opening a FIFO for reading must not hang it.
sub check {
    my (%o) = @_;
    $ng->set_conf(GistTest::standard_conf(%o));
    return GistTest::Nginx::_run_cmd('timeout', '10', $GistTest::NGINX, '-t', '-p', $ng->dir . '/',
                                     '-c', $conf_path);
}

sub good_ok {
    my ($name, %o) = @_;
    my ($rc, $out) = check(%o);
    is($rc, 0, "$name: nginx -t passes") or diag $out;
}

sub bad_ok {
    my ($name, $line_re, $msg_re, %o) = @_;
    my ($rc, $out) = check(%o);
    my $line = $ng->conf_line($line_re) or die "test bug: no line matches $line_re";
    isnt($rc, 0, "$name: nginx -t fails");
    isnt($rc, 124, "$name: nginx -t does not hang");
    like($out, qr/\[emerg\] .*$msg_re.* in \Q$conf_path\E:$line\b/, "$name: [emerg] ... in nginx.conf:$line")
        or diag $out;
    ok(index($out, $pd_token) < 0, "$name: the token is not echoed");
}

sub pd { my ($url, $file) = @_; "    gist_pipedrive_api_url $url;\n    gist_pipedrive_token_file " . ($file // $pd_file) . ";\n" }

# --- http:// only to this machine --------------------------------------------------------------
good_ok("github $_", api_url => $_)
    for qw(https://api.github.com http://127.0.0.1:9 http://127.3.2.1:9/api http://localhost:9
           http://LOCALHOST http://localhost.:9 http://[::1]:9);
good_ok("pipedrive $_", http_extra => pd($_))
    for qw(https://acme.pipedrive.com http://127.0.0.1:9 http://localhost:9 http://[::1]:9);

for my $url (qw(http://api.github.com http://10.0.0.5:8080 http://128.0.0.1 http://127.0.0.1.nip.io
                http://localhost.example.com http://[::2]:9 http://[::ffff:10.0.0.1])) {
    bad_ok("github $url", qr/gist_github_api_url/, qr/insecure URL/, api_url => $url);
    bad_ok("pipedrive $url", qr/gist_pipedrive_api_url/, qr/insecure URL/, http_extra => pd($url));
}

# --- secret files are regular files ------------------------------------------------------------
for my $c ([directory => $dir], [FIFO => $fifo], [device => $device]) {
    my ($what, $path) = @$c;
    bad_ok("github token file is a $what", qr/gist_github_token_file/, qr/not a regular file/,
           token_file => $path);
    bad_ok("pipedrive token file is a $what", qr/gist_pipedrive_token_file/, qr/not a regular file/,
           http_extra => pd('https://acme.pipedrive.com', $path));
    bad_ok("redis password file is a $what", qr/gist_redis /, qr/not a regular file/,
           redis_line => "127.0.0.1:6390 password_file=$path");
}
good_ok('regular secret files', token_file => $gh_file, http_extra => pd('https://acme.pipedrive.com'),
        redis_line => "127.0.0.1:6390 password_file=$gh_file");

ok(!$ng->master_pid, 'nginx -t started nothing');

done_testing;
