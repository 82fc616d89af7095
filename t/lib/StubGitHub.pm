package StubGitHub;

# A stub of GitHub's REST API (just GET /users/{login}/gists) on 127.0.0.1, for the integration
# tests. It runs in its own process group; every connection is served by its own forked process,
# so many delayed requests are answered in parallel. Core Perl only.
#
#   my $stub = StubGitHub->new(dir => $dir, scenario => {
#       users => {
#           octocat => {
#               gists       => [ StubGitHub::make_gists('octocat', 3) ],
#               page_size   => 2,          # force a page size (default: the request's per_page, 30, max 100)
#               etag        => 1,          # default 1: W/"md5 of the page body"; 0: no ETag;
#                                          #   a string: that ETag on every page
#               status      => 404,        # 404 Not Found | 403 rate limit (remaining 0) | 429 (retry-after)
#                                          #   | 401 | 422 | 500 | 502 | any other code
#               page_status => { 2 => 500 },   # status override for one page only
#               retry_after => 30,         # 429's retry-after (default 30)
#               message     => 'text',     # the error body's "message" (with status)
#               reset_in    => 120,        # x-ratelimit-reset = now + reset_in (403)
#               remaining   => 0,          # x-ratelimit-remaining override
#               body        => 'not json', # answer 200 with this raw body
#               delay       => 3,          # seconds before answering (fractions fine)
#               close       => 1,          # close the connection without answering (after delay)
#               headers     => { 'x-foo' => 'bar' },  # extra response headers
#               link_base   => 'http://127.0.0.1:9', # Link URLs on another origin (default: the stub's own)
#           },
#       },
#   });
#   $stub->url;  $stub->port;
#   $stub->set_scenario({...});  $stub->set_user(octocat => {...});  $stub->scenario;
#   $stub->requests;  $stub->requests_for('octocat');  $stub->count_for('octocat');
#   $stub->clear_requests;  $stub->stop;
#
# The scenario is a JSON file re-read on every request, so a test may change it between requests.
# Every request is appended (with flock) to requests.jsonl before any delay:
#   {"method","target" (path+query),"path","query":{...},"login","page","headers":{lc name: value},"time"}
# Users missing from the scenario get GitHub's 404. Each record also has "status": the status the
# stub answered (null when it closed the connection), and "peer_port": the client's TCP port (which
# process sent it can be told from /proc while the connection lasts).
#
# A shared rate budget (off by default), like GitHub's primary limit for one token:
#   $stub->set_rate(limit => 100, remaining => 12, reset_at => time + 10, window => 60);
#   $stub->rate;            # {limit, remaining, reset_at, window, used}: the budget now
#   $stub->set_rate(undef); # off again
# While on, every gist listing request (any user) is accounted under an flock: once `reset_at` has
# passed the budget refills to `limit` and the next reset is `window` s later; at remaining 0 every
# listing gets 403 (remaining 0, x-ratelimit-reset = reset_at) whatever the user's scenario says;
# otherwise each answer but a 304 (free on GitHub) takes one from `remaining`. Every answer carries
# the budget in x-ratelimit-limit/remaining/reset/used (overriding a user's remaining/reset_in).

use strict;
use warnings;

use Digest::MD5 qw(md5_hex);
use Fcntl qw(:flock O_WRONLY O_APPEND O_CREAT);
use IO::Select;
use StubHttp;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(strftime WNOHANG);
use Time::HiRes qw(time sleep);

my $JSON = JSON::PP->new->utf8->canonical;

sub new {
    my ($class, %opt) = @_;
    my $dir = $opt{dir} or die "StubGitHub: dir required";
    my $self = bless {
        dir => $dir,
        scenario_file => "$dir/scenario.json",
        log_file => "$dir/requests.jsonl",
        rate_file => "$dir/rate.json",
    }, $class;
    $self->set_scenario($opt{scenario} || {});
    open my $lf, '>', $self->{log_file} or die $!;
    close $lf;
    chmod 0666, $self->{log_file};

    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $opt{port} // 0,
                                       Proto => 'tcp', Listen => 256, ReuseAddr => 1)
        or die "StubGitHub: listen: $!";
    $self->{port} = $listen->sockport;
    $self->{url} = "http://127.0.0.1:$self->{port}";

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
        eval { $self->_serve($listen) };
        POSIX::_exit(0);
    }
    close $listen;
    POSIX::setpgid($pid, $pid);    # both sides, to avoid a race with stop()
    $self->{pid} = $pid;
    return $self;
}

sub url { $_[0]{url} }
sub port { $_[0]{port} }
sub log_file { $_[0]{log_file} }

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', -$pid;    # the whole process group: server and connection processes
    kill 'TERM', $pid;
    for (1 .. 100) { last if waitpid($pid, WNOHANG) == $pid; sleep 0.05 }
    kill 'KILL', -$pid;
    waitpid($pid, WNOHANG);
}

sub scenario {
    my ($self) = @_;
    open my $fh, '<', $self->{scenario_file} or return {};
    local $/;
    my $s = <$fh>;
    close $fh;
    return eval { $JSON->decode($s) } || {};
}

# Replace the whole scenario (atomically: readers see the old or the new file).
sub set_scenario {
    my ($self, $sc) = @_;
    my $tmp = "$self->{scenario_file}.$$.tmp";
    open my $fh, '>', $tmp or die "$tmp: $!";
    print $fh $JSON->encode($sc);
    close $fh;
    rename $tmp, $self->{scenario_file} or die "rename: $!";
    return $self;
}

# Replace (or with undef, remove) one user's entry.
sub set_user {
    my ($self, $login, $u) = @_;
    my $sc = $self->scenario;
    $sc->{users} ||= {};
    if (defined $u) { $sc->{users}{$login} = $u } else { delete $sc->{users}{$login} }
    return $self->set_scenario($sc);
}

sub requests { StubHttp::log_read($_[0]{log_file}) }

sub requests_for {
    my ($self, $login) = @_;
    return grep { defined $_->{login} && lc $_->{login} eq lc $login } $self->requests;
}

sub count_for { my ($self, $login) = @_; return scalar(my @r = $self->requests_for($login)) }

# The shared rate budget (see above): set_rate(%budget) turns it on, set_rate(undef) off.
sub set_rate {
    my ($self, @a) = @_;
    if (@a == 1 && !defined $a[0]) { unlink $self->{rate_file}; return $self }
    my %o = @a;
    my %st = (limit => $o{limit} // 5000, window => $o{window} // 3600, used => 0);
    $st{remaining} = $o{remaining} // $st{limit};
    $st{reset_at} = $o{reset_at} // int(time) + $st{window};
    my $tmp = "$self->{rate_file}.$$.tmp";
    open my $fh, '>', $tmp or die "$tmp: $!";
    print $fh $JSON->encode(\%st);
    close $fh;
    chmod 0666, $tmp;
    rename $tmp, $self->{rate_file} or die "rename: $!";
    return $self;
}

sub rate {
    my ($self) = @_;
    open my $fh, '<', $self->{rate_file} or return undef;
    flock $fh, LOCK_SH;
    local $/;
    my $s = <$fh>;
    close $fh;
    return eval { $JSON->decode($s) };
}

sub clear_requests { StubHttp::log_clear($_[0]{log_file}) }

# ------------------------------------------------------------------------------------------
# Gists in GitHub's shape.

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

# make_gist(id =>, login =>, created_at =>, updated_at =>, description => (undef allowed),
#           files => ['a.txt', ...], public => 1)
sub make_gist {
    my (%o) = @_;
    my $id = $o{id} // md5_hex(rand() . time . $$);
    my $login = $o{login} // 'octocat';
    my $created = $o{created_at} // '2020-01-01T00:00:00Z';
    my %files;
    for my $f (@{ $o{files} || ['hello.txt'] }) {
        $files{$f} = {
            filename => $f, type => 'text/plain', language => 'Text',
            raw_url => "https://gist.githubusercontent.com/$login/$id/raw/0000/$f", size => 42,
        };
    }
    return {
        url => "https://api.github.com/gists/$id",
        forks_url => "https://api.github.com/gists/$id/forks",
        commits_url => "https://api.github.com/gists/$id/commits",
        id => $id,
        node_id => "G_$id",
        git_pull_url => "https://gist.github.com/$id.git",
        git_push_url => "https://gist.github.com/$id.git",
        html_url => "https://gist.github.com/$id",
        files => \%files,
        public => JSON::PP::true,
        created_at => $created,
        updated_at => $o{updated_at} // $created,
        description => exists $o{description} ? $o{description} : "gist $id",
        comments => 0,
        user => undef,
        comments_url => "https://api.github.com/gists/$id/comments",
        owner => {
            login => $login, id => 583231, node_id => 'MDQ6VXNlcjU4MzIzMQ==',
            avatar_url => 'https://avatars.githubusercontent.com/u/583231?v=4',
            url => "https://api.github.com/users/$login", html_url => "https://github.com/$login",
            type => 'User', site_admin => JSON::PP::false,
        },
        truncated => JSON::PP::false,
    };
}

# $n gists for $login, newest first (as GitHub lists them), ids deterministic per (tag, login, i).
#   opt: tag => 'x' (makes ids distinct between sets), base => epoch of the newest, step => seconds
sub make_gists {
    my ($login, $n, %o) = @_;
    my $base = $o{base} // 1_700_000_000;
    my $step = $o{step} // 3600;
    my $tag = $o{tag} // '';
    return map {
        make_gist(id => md5_hex("$tag/$login/$_"), login => $login,
                  created_at => iso($base - $_ * $step), files => ["file$_.txt"])
    } 0 .. $n - 1;
}

# ------------------------------------------------------------------------------------------
# The server.

sub _serve {
    my ($self, $listen) = @_;
    $SIG{CHLD} = 'IGNORE';
    $SIG{PIPE} = 'IGNORE';
    while (1) {
        my $c = $listen->accept or next;
        $self->_scenario_cached;    # children inherit the decoded scenario
        my $pid = fork;
        if (!defined $pid) { close $c; sleep 0.01; next }
        if ($pid == 0) {
            close $listen;
            eval { $self->_connection($c) };
            POSIX::_exit(0);
        }
        close $c;
    }
}

sub _read_request { StubHttp::read_request($_[0], $_[1], 30) }

sub _connection {
    my ($self, $c) = @_;
    binmode $c;
    my $buf = '';
    while (1) {
        my $req = _read_request($c, \$buf) or return;
        my ($path, $qs) = split /\?/, $req->{target}, 2;
        my %q;
        for (split /&/, $qs // '') {
            my ($k, $v) = split /=/, $_, 2;
            $q{$k} = $v // '';
        }
        my ($login) = $path =~ m{^/users/([^/]+)/gists$};
        my $page = $q{page} // 1;
        my $t0 = time;
        my $resp = $self->_respond($req, $path, \%q, $login);
        $resp = $self->_rate_account($resp, $login) if defined $login && -e $self->{rate_file};
        $self->_log({ method => $req->{method}, target => $req->{target}, path => $path, query => \%q,
                      login => $login, page => 0 + ($page =~ /^\d+$/ ? $page : 0),
                      headers => $req->{headers}, time => $t0, peer_port => $c->peerport,
                      status => $resp->{close} ? undef : $resp->{status} });
        my $keep = !(($req->{headers}{connection} // '') =~ /close/i) && $req->{version} eq 'HTTP/1.1';
        sleep $resp->{delay} if $resp->{delay};
        return if $resp->{close};
        my $out = "HTTP/1.1 $resp->{status} " . _reason($resp->{status}) . "\r\n";
        my $body = $resp->{body} // '';
        my @h = (@{ $resp->{headers} }, 'Content-Length' => length $body);
        push @h, Connection => ($keep ? 'keep-alive' : 'close');
        for (my $i = 0; $i < @h; $i += 2) { $out .= "$h[$i]: $h[$i + 1]\r\n" }
        $out .= "\r\n";
        $out .= $body if $req->{method} ne 'HEAD';
        my $off = 0;
        while ($off < length $out) {
            my $w = syswrite($c, $out, length($out) - $off, $off);
            return unless defined $w;
            $off += $w;
        }
        return unless $keep;
    }
}

sub _log {
    my ($self, $rec) = @_;
    StubHttp::log_append($self->{log_file}, $rec);
}

my %REASON = (200 => 'OK', 304 => 'Not Modified', 401 => 'Unauthorized', 403 => 'Forbidden',
              404 => 'Not Found', 422 => 'Unprocessable Entity', 429 => 'Too Many Requests',
              500 => 'Internal Server Error', 502 => 'Bad Gateway', 503 => 'Service Unavailable');
sub _reason { $REASON{ $_[0] } // 'Status' }

sub _base_headers {
    my ($u, $status) = @_;
    my $now = int time;
    my $remaining = $u->{remaining} // 59;
    return (
        'Server' => 'github.com',
        'Date' => strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime $now),
        'Content-Type' => 'application/json; charset=utf-8',
        'Cache-Control' => 'public, max-age=60, s-maxage=60',
        'Vary' => 'Accept, Accept-Encoding, Accept, X-Requested-With',
        'X-GitHub-Media-Type' => 'github.v3; format=json',
        'x-github-api-version-selected' => '2022-11-28',
        'x-ratelimit-limit' => 60,
        'x-ratelimit-remaining' => $remaining,
        'x-ratelimit-reset' => $now + ($u->{reset_in} // 3600),
        'x-ratelimit-used' => 60 - $remaining,
        'x-ratelimit-resource' => 'core',
        'X-GitHub-Request-Id' => sprintf('%04X:%04X:%X', $$ & 0xffff, int(rand 65536), $now),
        %{ $u->{headers} || {} },
    );
}

sub _error {
    my ($u, $status, $page) = @_;
    my %body = (
        404 => { message => 'Not Found',
                 documentation_url => 'https://docs.github.com/rest/gists/gists#list-gists-for-a-user',
                 status => '404' },
        403 => { message => 'API rate limit exceeded for 127.0.0.1. (But here\'s the good news: '
                          . 'Authenticated requests get a higher rate limit. Check out the documentation '
                          . 'for more details.)',
                 documentation_url => 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting' },
        429 => { message => 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
                 documentation_url => 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
        401 => { message => 'Bad credentials', documentation_url => 'https://docs.github.com/rest', status => '401' },
        422 => { message => 'Validation Failed', documentation_url => 'https://docs.github.com/rest', status => '422' },
    );
    my $b = $body{$status} // { message => 'Server Error' };
    $b = { %$b, message => $u->{message} } if defined $u->{message};
    my %u = %$u;
    $u{remaining} //= 0 if $status == 403;
    my @h = _base_headers(\%u, $status);
    push @h, 'retry-after' => ($u->{retry_after} // 30) if $status == 429;
    return { status => $status, headers => \@h, body => $JSON->encode($b), delay => $u->{delay} };
}

# The shared rate budget: refill after the reset, 403 when exhausted, one less per answer but a
# 304, and the budget's headers on the answer.
sub _rate_account {
    my ($self, $resp, $login) = @_;
    return $resp if $resp->{close};
    open my $fh, '+<', $self->{rate_file} or return $resp;
    flock $fh, LOCK_EX;
    local $/;
    my $st = eval { $JSON->decode(<$fh> // '') };
    if (ref $st ne 'HASH') { close $fh; return $resp }
    my $now = time;
    if ($now >= $st->{reset_at}) {
        $st->{remaining} = $st->{limit};
        $st->{reset_at} = int($now) + $st->{window};
    }
    if ($st->{remaining} <= 0) {
        my $e = _error({ delay => $resp->{delay} }, 403);
        $resp = { %$e, rate_exhausted => 1 };
    } elsif ($resp->{status} != 304) {
        $st->{remaining}--;
        $st->{used}++;
    }
    my %set = ('x-ratelimit-limit' => $st->{limit}, 'x-ratelimit-remaining' => $st->{remaining},
               'x-ratelimit-reset' => $st->{reset_at}, 'x-ratelimit-used' => $st->{limit} - $st->{remaining});
    my @h = @{ $resp->{headers} || [] };
    for (my $i = 0; $i < @h; $i += 2) {
        my $k = lc $h[$i];
        $h[$i + 1] = $set{$k} if exists $set{$k};
    }
    $resp = { %$resp, headers => \@h };
    seek $fh, 0, 0;
    truncate $fh, 0;
    print $fh $JSON->encode($st);
    close $fh;
    return $resp;
}

# The scenario, decoded again only when the file changed (checked on every call).
sub _scenario_cached {
    my ($self) = @_;
    my @st = Time::HiRes::stat($self->{scenario_file});
    my $key = @st ? join(':', @st[0, 1, 7, 9]) : '';
    if (!defined $self->{sc_key} || $self->{sc_key} ne $key) {
        $self->{sc} = $self->scenario;
        $self->{sc_key} = $key;
    }
    return $self->{sc};
}

sub _respond {
    my ($self, $req, $path, $q, $login) = @_;
    my $sc = $self->_scenario_cached;
    my $users = $sc->{users} || {};
    my ($u) = defined $login ? (map { $users->{$_} } grep { lc $_ eq lc $login } keys %$users) : ();
    if (!$u || $req->{method} ne 'GET') {
        return _error({ delay => $u ? $u->{delay} : 0 }, 404);
    }
    my $delay = $u->{delay} || 0;
    return { close => 1, delay => $delay } if $u->{close};
    my $page = $q->{page} // 1;
    $page = 1 unless $page =~ /^\d+$/ && $page >= 1;
    my $st = ($u->{page_status} || {})->{$page} // $u->{status};
    return _error($u, $st, $page) if $st && $st != 200;
    if (defined $u->{body}) {
        return { status => 200, headers => [_base_headers($u)], body => $u->{body}, delay => $delay };
    }

    my $req_pp = $q->{per_page} // 30;
    $req_pp = 30 unless $req_pp =~ /^\d+$/ && $req_pp >= 1;
    $req_pp = 100 if $req_pp > 100;
    my $pp = $u->{page_size} // $req_pp;
    my @all = @{ $u->{gists} || [] };
    my $last = @all ? int((@all + $pp - 1) / $pp) : 1;
    my @slice = grep { defined } @all[($page - 1) * $pp .. $page * $pp - 1];
    my $body = $JSON->encode(\@slice);

    my @h = _base_headers($u);
    my $e = exists $u->{etag} ? $u->{etag} : 1;
    my $auto = 'W/"' . md5_hex("$page:$body") . '"';
    my $etag = ref $e ? ($e ? $auto : undef)
             : $e eq '1' ? $auto
             : ($e eq '0' || $e eq '') ? undef
             : $e;
    push @h, ETag => $etag if defined $etag;

    my $inm = $req->{headers}{'if-none-match'};
    if (defined $etag && defined $inm) {
        (my $bare = $etag) =~ s{^W/}{};
        for my $t (split /\s*,\s*/, $inm) {
            (my $tb = $t) =~ s{^W/}{};
            if ($tb eq $bare || $t eq '*') {
                return { status => 304, headers => \@h, body => '', delay => $delay };
            }
        }
    }

    if ($last > 1) {
        my $base = $u->{link_base} // $self->{url};
        my $mk = sub { "<$base$path?per_page=$req_pp&page=$_[0]>; rel=\"$_[1]\"" };
        my @links;
        push @links, $mk->($page - 1, 'prev') if $page > 1 && $page <= $last + 1;
        push @links, $mk->($page + 1, 'next') if $page < $last;
        push @links, $mk->($last, 'last') if $page < $last;
        push @links, $mk->(1, 'first') if $page > 1;
        push @h, Link => join(', ', @links) if @links;
    }
    return { status => 200, headers => \@h, body => $body, delay => $delay };
}

1;
