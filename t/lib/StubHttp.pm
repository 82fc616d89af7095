package StubHttp;

# What the stub servers share (core Perl only): reading one HTTP/1.1 request from a keep-alive
# connection (Content-Length or chunked body), and the request log, one JSON object a line,
# written and read under flock so that every forked connection handler can append to it.

use strict;
use warnings;

use Fcntl qw(:flock O_WRONLY O_APPEND O_CREAT);
use IO::Select;
use JSON::PP ();

my $JSON = JSON::PP->new->utf8->canonical;

sub log_append {
    my ($file, $rec) = @_;
    sysopen(my $fh, $file, O_WRONLY | O_APPEND | O_CREAT) or return;
    flock $fh, LOCK_EX;
    syswrite $fh, $JSON->encode($rec) . "\n";
    close $fh;
}

sub log_read {
    my ($file) = @_;
    open my $fh, '<', $file or return ();
    flock $fh, LOCK_SH;
    my @r;
    while (my $l = <$fh>) {
        my $r = eval { $JSON->decode($l) };
        push @r, $r if $r;
    }
    close $fh;
    return @r;
}

sub log_clear {
    my ($file) = @_;
    open my $fh, '+<', $file or return;
    flock $fh, LOCK_EX;
    truncate $fh, 0;
    close $fh;
}

# read_request($socket, \$buffer [, $timeout_s]): {method, target, version, headers (lower-case
# names, repeated ones joined by ", "), body}, or undef when the peer closed or went quiet for
# $timeout_s (60). Bytes after the request stay in $buffer for the next one.
sub read_request {
    my ($c, $bufref, $timeout) = @_;
    $timeout //= 60;
    my $sel = IO::Select->new($c);
    while (index($$bufref, "\r\n\r\n") < 0) {
        return undef unless $sel->can_read($timeout);
        my $n = sysread($c, my $chunk, 65536);
        return undef unless $n;
        $$bufref .= $chunk;
    }
    my $i = index($$bufref, "\r\n\r\n");
    my $head = substr($$bufref, 0, $i);
    substr($$bufref, 0, $i + 4) = '';
    my @l = split /\r\n/, $head;
    my ($method, $target, $ver) = split / /, shift(@l), 3;
    my %h;
    for (@l) {
        my ($k, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
        $k = lc $k;
        $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
    }
    my $body = '';
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        while (1) {
            while ($$bufref !~ /\r\n/) {
                return undef unless $sel->can_read($timeout);
                my $n = sysread($c, my $chunk, 65536);
                return undef unless $n;
                $$bufref .= $chunk;
            }
            $$bufref =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n// or return undef;
            my $len = hex $1;
            while (length($$bufref) < $len + 2) {
                return undef unless $sel->can_read($timeout);
                my $n = sysread($c, my $chunk, 65536);
                return undef unless $n;
                $$bufref .= $chunk;
            }
            $body .= substr($$bufref, 0, $len);
            substr($$bufref, 0, $len + 2) = '';
            last if $len == 0;
        }
    } else {
        my $len = $h{'content-length'} // 0;
        while (length($$bufref) < $len) {
            return undef unless $sel->can_read($timeout);
            my $n = sysread($c, my $chunk, 65536);
            return undef unless $n;
            $$bufref .= $chunk;
        }
        $body = substr($$bufref, 0, $len);
        substr($$bufref, 0, $len) = '';
    }
    return { method => $method, target => $target, version => $ver // 'HTTP/1.0', headers => \%h,
             body => $body };
}

1;
