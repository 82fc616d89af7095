package TcpProxy;

# A TCP proxy on 127.0.0.1 for the integration tests, standing in for what sits between NGINX and
# Redis in production (the TLS tunnel to ElastiCache, whose endpoint moves on failover). Each new
# connection goes to the target port of the moment; connections already made keep theirs, as a
# tunnel's do. Every connection is served by its own forked process. Core Perl only.
#
#   my $proxy = TcpProxy->new(dir => $dir, target => $redis_a->port);
#   $proxy->port;
#   $proxy->set_target($redis_b->port);    # new connections only
#   $proxy->stop;

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use POSIX ();

sub new {
    my ($class, %opt) = @_;
    my $self = bless { dir => $opt{dir} // die('dir required'), target_file => "$opt{dir}/proxy-target" }, $class;
    $self->set_target($opt{target} // die('target required'));
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
                                       Listen => 128, ReuseAddr => 1) or die "proxy listen: $!";
    $self->{port} = $listen->sockport;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        $SIG{CHLD} = 'IGNORE';
        while (1) {
            my $client = $listen->accept or next;
            my $child = fork;
            if (defined $child && $child == 0) {
                close $listen;
                $self->_serve($client);
                POSIX::_exit(0);
            }
            close $client;
        }
    }
    close $listen;
    $self->{pid} = $pid;
    return $self;
}

sub port { $_[0]{port} }

sub set_target {
    my ($self, $port) = @_;
    my $tmp = "$self->{target_file}.tmp";
    open my $fh, '>', $tmp or die "$tmp: $!";
    print $fh $port;
    close $fh;
    rename $tmp, $self->{target_file} or die "rename: $!";
}

sub _serve {
    my ($self, $client) = @_;
    open my $fh, '<', $self->{target_file} or return;
    my $port = <$fh>;
    close $fh;
    my $upstream = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
        or return;
    my $sel = IO::Select->new($client, $upstream);
    while (1) {
        for my $from ($sel->can_read) {
            my $to = $from == $client ? $upstream : $client;
            my $n = sysread($from, my $buf, 65536);
            return unless $n;
            my $off = 0;
            while ($off < $n) {
                my $w = syswrite($to, $buf, $n - $off, $off);
                return unless defined $w;
                $off += $w;
            }
        }
    }
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'KILL', -$pid;
    waitpid $pid, 0;
}

1;
