package GistTest;

# A small integration-test harness for ngx_gist_module, in the spirit of nginx-tests'
# Test::Nginx (written for this project; core Perl only).
#
#   use GistTest;
#   my $t     = GistTest->new;                 # skip_all unless $ENV{GIST_MODULE} is a file
#   my $redis = $t->redis;                     # redis-server on a free loopback port
#   my $stub  = $t->stub({ users => { octocat => { gists => [...] } } });
#   my $ng    = $t->nginx;                     # GistTest::Nginx, standard config (see standard_conf)
#   $ng->run;
#   my ($status, $headers, $body, $json) = $ng->http(POST => '/user/octocat');
#
# Everything started is stopped when the test ends (END block, also after die or SIGINT/TERM).
# Temp dirs live under /tmp and are removed unless TEST_NGINX_LEAVE=1.
# TEST_NGINX_BINARY overrides /usr/sbin/nginx; TEST_NGINX_VERBOSE=1 prints what happens;
# TEST_NGINX_CATLOG=1 prints each nginx error log at the end.

use strict;
use warnings;

use Exporter qw(import);
use File::Temp ();
use File::Path ();
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(WNOHANG);
use Socket qw(SOL_SOCKET SO_REUSEADDR);
use Time::HiRes qw(time sleep);
use Test::More ();

use StubGitHub;

our @EXPORT = qw(error_ok gist_view $RFC3339);
our @EXPORT_OK = qw(wait_for json_decode json_encode free_port);

# An RFC 3339 UTC timestamp as the module writes them.
our $RFC3339 = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\z/;

our $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
our $REDIS_SERVER = '/usr/bin/redis-server';

my @LIVE;              # harness objects to clean up at exit
my $OWNER_PID = $$;    # forked children never clean up
my %PORTS_GIVEN;

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
sub json_decode { my $s = shift; my $r = eval { $JSON->decode($s) }; return $r }
sub json_encode { $JSON->encode(shift) }

sub note_v { Test::More::diag(@_) if $ENV{TEST_NGINX_VERBOSE} }

# A free TCP port on 127.0.0.1 (never the same one twice in one test process).
sub free_port {
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1) or die "free_port: $!";
        my $p = $s->sockport;
        close $s;
        next if $PORTS_GIVEN{$p}++;
        return $p;
    }
    die "free_port: no port found";
}

# Poll $cond every $step seconds until it returns true or $timeout passes; returns its last value.
sub wait_for {
    my ($cond, $timeout, $step) = @_;
    $timeout //= 10;
    $step //= 0.05;
    my $end = time + $timeout;
    while (1) {
        my $r = $cond->();
        return $r if $r;
        return $r if time >= $end;
        sleep $step;
    }
}

sub new {
    my ($class, %opt) = @_;
    my $need_module = exists $opt{need_module} ? $opt{need_module} : 1;
    if ($need_module) {
        my $m = $ENV{GIST_MODULE};
        if (!defined $m || $m eq '') {
            Test::More::plan(skip_all => 'GIST_MODULE is not set (path to ngx_http_gist_module.so); '
                . 'run: GIST_MODULE=build/ngx_http_gist_module.so prove -I t/lib -r t/');
        }
        if (!-f $m) {
            Test::More::plan(skip_all => "GIST_MODULE=$m: no such file (build the module first)");
        }
    }
    Test::More::plan(skip_all => "$NGINX not executable") if $need_module && !-x $NGINX;
    Test::More::plan(skip_all => "$REDIS_SERVER not executable") unless -x $REDIS_SERVER;

    my $dir = File::Temp::tempdir('gist-test-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    chmod 0755, $dir;    # nginx workers run as nobody and must reach files in here
    my $self = bless {
        dir => $dir, module => $ENV{GIST_MODULE}, nginxes => [], redises => [], stubs => [],
        n => 0,
    }, $class;
    push @LIVE, $self;
    note_v("test dir: $dir");
    return $self;
}

sub dir { $_[0]{dir} }
sub module { $_[0]{module} }

# A fresh sub-directory of the test dir (mode 0755).
sub subdir {
    my ($self, $name) = @_;
    my $d = "$self->{dir}/$name";
    File::Path::make_path($d);
    chmod 0755, $d;
    return $d;
}

# Write $content to $name inside the test dir (or to an absolute path); returns the path.
sub write_file {
    my ($self, $name, $content, $mode) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open my $fh, '>', $path or die "write $path: $!";
    print $fh $content;
    close $fh;
    chmod $mode, $path if defined $mode;
    return $path;
}

sub redis {
    my ($self, %opt) = @_;
    my $r = GistTest::Redis->new($self, %opt);
    push @{ $self->{redises} }, $r;
    $r->start unless $opt{no_start};
    return $r;
}

# A TCP proxy to $target_port (TcpProxy), stopped with the test.
sub proxy {
    my ($self, $target_port) = @_;
    require TcpProxy;
    my $p = TcpProxy->new(dir => $self->subdir('proxy' . (1 + @{ $self->{proxies} ||= [] })), target => $target_port);
    push @{ $self->{proxies} }, $p;
    return $p;
}

sub stub {
    my ($self, $scenario, %opt) = @_;
    my $name = 'stub' . (scalar @{ $self->{stubs} } + 1);
    my $s = StubGitHub->new(dir => $self->subdir($name), scenario => $scenario || {}, %opt);
    push @{ $self->{stubs} }, $s;
    return $s;
}

# A GistTest::Nginx with its own prefix dir. Options:
#   conf    => template (default: standard_conf(%opt))
#   vars    => { NAME => value } extra %%NAME%% placeholders
#   redis   => GistTest::Redis (for %%REDISPORT%%; default: the first one started)
#   stub    => StubGitHub      (for %%STUB%%; default: the first one started)
#   log_level => error_log level ('info')
#   plus the standard_conf options when conf is not given.
sub nginx {
    my ($self, %opt) = @_;
    $opt{redis} //= $self->{redises}[0];
    $opt{stub}  //= $self->{stubs}[0];
    my $n = GistTest::Nginx->new($self, %opt);
    push @{ $self->{nginxes} }, $n;
    return $n;
}

# The standard nginx.conf template. Options (all optional):
#   workers (2), timeout ('5s'), max_pages (undef: module default), token_file,
#   prefix ('gist:'), http_extra (raw text in http{}), server_extra (raw text in server{}),
#   redis_line (overrides the gist_redis value), api_url (overrides %%STUB%%)
sub standard_conf {
    my (%o) = @_;
    my $workers = $o{workers} // 2;
    my $timeout = $o{timeout} // '5s';
    my $redis = $o{redis_line} // '127.0.0.1:%%REDISPORT%%';
    my $api = $o{api_url} // '%%STUB%%';
    my $prefix = $o{prefix} // 'gist:';
    my $http = '';
    $http .= "    gist_github_max_pages $o{max_pages};\n" if defined $o{max_pages};
    $http .= "    gist_github_token_file $o{token_file};\n" if defined $o{token_file};
    $http .= $o{http_extra} if defined $o{http_extra};
    my $server = $o{server_extra} // '';
    return <<"EOF";
%%TEST_GLOBALS%%
worker_processes $workers;

events {
    worker_connections 1024;
}

http {
%%TEST_GLOBALS_HTTP%%
    gist_redis $redis;
    gist_redis_prefix "$prefix";
    gist_github_api_url $api;
    gist_upstream_timeout $timeout;
$http
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
$server
        location /user/          { gist_user; }
        location = /trackedusers { gist_tracked_users; }
        location = /health       { gist_health; }
    }
}
EOF
}

# Start a redis, a stub with $o{scenario} and an nginx with the standard conf (other options
# go to standard_conf / nginx); returns ($redis, $stub, $nginx), nginx running.
sub setup {
    my ($self, %o) = @_;
    my $redis = $self->redis;
    my $stub = $self->stub(delete $o{scenario} || {});
    my $ng = $self->nginx(%o)->run;
    return ($redis, $stub, $ng);
}

# What the API reports for a gist the stub serves: {id, html_url, description, files, created_at,
# updated_at, deal} with files = the file names in GitHub's order (the stub's JSON has sorted keys)
# and deal = null (these tests run without Pipedrive: "deal": null is the "deals off" answer).
sub gist_view {
    my ($g) = @_;
    return { id => $g->{id}, html_url => $g->{html_url}, description => $g->{description},
             files => [sort keys %{ $g->{files} }], created_at => $g->{created_at},
             updated_at => $g->{updated_at}, deal => undef };
}

# gist id => its "deal" (hash, or undef for null; 'MISSING' when the key is absent) from a POST or
# GET /user answer (new_gists, old_gists or gists).
sub deals_of {
    my ($j) = @_;
    my %d;
    return \%d unless ref $j eq 'HASH';
    for my $g (map { @{ $j->{$_} || [] } } qw(new_gists old_gists gists)) {
        $d{ $g->{id} } = exists $g->{deal} ? $g->{deal} : 'MISSING';
    }
    return \%d;
}

# The product's state in Redis: every key but GitHub's budget bookkeeping (<prefix>github:*),
# which every GitHub answer updates, failed ones included.
sub state_keys {
    my ($redis) = @_;
    # GitHub's budget and the key-schema marker are bookkeeping, not a user's state
    return grep { !/:github:/ && !/:schema\z/ } $redis->all_keys;
}

# /health without the parts that depend on GitHub's headers and on rescans ("github", and
# "rescan" when rescans are off: {"interval_s": null, "overdue": 0}), after checking their shape.
sub health_core {
    my ($j) = @_;
    return $j unless ref $j eq 'HASH';
    my %h = %$j;
    my $github = delete $h{github};
    my $rescan = delete $h{rescan};
    $h{github_shape} = 'bad' unless ref $github eq 'HASH'
        && join(',', sort keys %$github) eq 'limit,remaining,reset';
    $h{rescan_shape} = 'bad' unless ref $rescan eq 'HASH' && exists $rescan->{interval_s}
        && defined $rescan->{overdue};
    return \%h;
}

# One assertion: [$status, $headers, $body, $json] is the JSON error
# {"error": $code, "message": "<non-empty>"} with HTTP $status and Content-Type application/json.
sub error_ok {
    my ($r, $status, $code, $name) = @_;
    my ($st, $h, $body, $j) = @$r;
    my @why;
    push @why, 'status ' . ($st // 'none') . " != $status" unless defined $st && $st == $status;
    push @why, 'content-type ' . ($h->{'content-type'} // 'none')
        unless ($h->{'content-type'} // '') =~ m{^application/json\b};
    if (ref $j ne 'HASH') {
        push @why, 'body is not a JSON object';
    } else {
        push @why, 'error ' . ($j->{error} // 'undef') . " != $code" unless ($j->{error} // '') eq $code;
        push @why, 'message missing or empty' unless defined $j->{message} && !ref $j->{message}
            && length $j->{message};
        my @extra = grep { $_ ne 'error' && $_ ne 'message' } sort keys %$j;
        push @why, "extra keys: @extra" if @extra;
    }
    my $ok = Test::More::ok(!@why, $name // "$status $code");
    Test::More::diag(join('; ', @why) . "\nbody: " . ($body // '')) if @why;
    return $ok;
}

sub cleanup {
    my ($self) = @_;
    return if $self->{cleaned}++;
    for my $n (@{ $self->{nginxes} }) {
        eval { $n->stop(5) };
        if ($ENV{TEST_NGINX_CATLOG} && -f $n->error_log_path) {
            Test::More::diag("---- $n->{dir}/error.log ----\n" . $n->error_log);
        }
    }
    eval { $_->stop } for @{ $self->{stubs} };
    eval { $_->stop } for @{ $self->{pipedrives} || [] };
    eval { $_->stop } for @{ $self->{proxies} || [] };
    eval { $_->stop } for @{ $self->{redises} };
    if ($ENV{TEST_NGINX_LEAVE}) {
        Test::More::diag("TEST_NGINX_LEAVE: left $self->{dir}");
    } else {
        File::Path::remove_tree($self->{dir});
    }
}

END {
    if ($$ == $OWNER_PID) {
        my $rc = $?;
        $_->cleanup for @LIVE;
        $? = $rc;
    }
}
for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub { exit 130 } if !defined $SIG{$sig} || $SIG{$sig} eq '' || $SIG{$sig} eq 'DEFAULT';
}

# ---------------------------------------------------------------------------------------------
# HTTP client (shared by GistTest::Nginx; usable on any host:port)

# http_request($port, $method, $path, %opt) -> ($status, \%headers, $body, $json)
#   opt: headers => {...} or [k, v, ...], body => string, timeout => seconds (10), raw => exact
#   request bytes. $status is undef on timeout or connection error ($body then says why).
sub http_request {
    my ($port, $method, $path, %opt) = @_;
    my $h = http_send($port, $method, $path, %opt);
    return http_wait($h, $opt{timeout});
}

sub _build_request {
    my ($port, $method, $path, %opt) = @_;
    return $opt{raw} if defined $opt{raw};
    my @hdr = ref $opt{headers} eq 'HASH' ? %{ $opt{headers} } : @{ $opt{headers} || [] };
    my %has;
    for (my $i = 0; $i < @hdr; $i += 2) { $has{ lc $hdr[$i] } = 1 }
    my $req = "$method $path HTTP/1.1\r\n";
    $req .= "Host: 127.0.0.1:$port\r\n" unless $has{host};
    $req .= "Connection: close\r\n" unless $has{connection};
    if (defined $opt{body} && !$has{'content-length'}) {
        $req .= "Content-Length: " . length($opt{body}) . "\r\n";
    }
    for (my $i = 0; $i < @hdr; $i += 2) { $req .= "$hdr[$i]: $hdr[$i + 1]\r\n" }
    $req .= "\r\n";
    $req .= $opt{body} if defined $opt{body};
    return $req;
}

# Start a request without waiting for the answer: returns a handle for http_wait / http_wait_all.
sub http_send {
    my ($port, $method, $path, %opt) = @_;
    my $h = { method => $method, path => $path, buf => '', started => time,
              timeout => $opt{timeout} // 10 };
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => 5);
    if (!$s) { $h->{error} = "connect 127.0.0.1:$port: $!"; $h->{done} = 1; return $h }
    $s->autoflush(1);
    binmode $s;
    my $req = _build_request($port, $method, $path, %opt);
    my $off = 0;
    local $SIG{PIPE} = 'IGNORE';
    while ($off < length $req) {
        my $w = syswrite($s, $req, length($req) - $off, $off);
        if (!defined $w) {
            # The server may answer early (e.g. 413) and close; keep what it says.
            last;
        }
        $off += $w;
    }
    $h->{sock} = $s;
    return $h;
}

sub _read_some {
    my ($h) = @_;
    my $n = sysread($h->{sock}, my $chunk, 65536);
    if (!defined $n) {
        return 1 if $!{EINTR} || $!{EAGAIN};
        $h->{error} = "read: $!" unless length $h->{buf};
        $h->{done} = 1;
    } elsif ($n == 0) {
        $h->{done} = 1;
    } else {
        $h->{buf} .= $chunk;
        $h->{done} = 1 if _complete($h);
    }
    if ($h->{done}) { close $h->{sock}; delete $h->{sock}; $h->{finished} = time }
    return 1;
}

# True when buf holds a full response (by Content-Length, chunked end, or no body).
sub _complete {
    my ($h) = @_;
    my $i = index($h->{buf}, "\r\n\r\n");
    return 0 if $i < 0;
    my $head = substr($h->{buf}, 0, $i);
    my $body = substr($h->{buf}, $i + 4);
    my ($status) = $head =~ m{^HTTP/\d\.\d (\d{3})};
    return 1 if uc $h->{method} eq 'HEAD' || (defined $status && ($status == 204 || $status == 304));
    if ($head =~ /^content-length:\s*(\d+)/mi) { return length($body) >= $1 }
    if ($head =~ /^transfer-encoding:\s*chunked/mi) { return $body =~ /(?:^|\r\n)0\r\n(?:.*\r\n)?\r\n\z/s }
    return 0;    # read until close
}

sub http_wait {
    my ($h, $timeout) = @_;
    my ($r) = http_wait_all([$h], $timeout);
    return @$r;
}

# Wait for all handles (concurrently); returns a list of [status, headers, body, json] in order.
sub http_wait_all {
    my ($hs, $timeout) = @_;
    my $end = time + ($timeout // (sort { $b <=> $a } map { $_->{timeout} } @$hs)[0] // 10);
    while (1) {
        my @open = grep { !$_->{done} } @$hs;
        last unless @open;
        my $left = $end - time;
        last if $left <= 0;
        my $sel = IO::Select->new(map { $_->{sock} } @open);
        my %by = map { fileno($_->{sock}) => $_ } @open;
        for my $fh ($sel->can_read($left > 0.5 ? 0.5 : $left)) {
            _read_some($by{ fileno $fh });
        }
    }
    my @out;
    for my $h (@$hs) {
        if (!$h->{done}) {
            close $h->{sock} if $h->{sock};
            delete $h->{sock};
            $h->{done} = 1;
            $h->{error} = 'timeout';
        }
        push @out, [_parse_response($h)];
    }
    return @out;
}

sub _parse_response {
    my ($h) = @_;
    my $buf = $h->{buf};
    my $i = index($buf, "\r\n\r\n");
    if ($i < 0) { return (undef, {}, $h->{error} // "incomplete response: $buf", undef) }
    my $head = substr($buf, 0, $i);
    my $body = substr($buf, $i + 4);
    my @lines = split /\r\n/, $head;
    my $sl = shift @lines;
    my ($status) = $sl =~ m{^HTTP/\d\.\d (\d{3})} or return (undef, {}, "bad status line: $sl", undef);
    my %hdr;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        $hdr{$k} = exists $hdr{$k} ? "$hdr{$k}, $v" : $v;
    }
    if (($hdr{'transfer-encoding'} // '') =~ /chunked/i) {
        my $out = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $len = hex $1;
            last if $len == 0;
            $out .= substr($body, 0, $len);
            substr($body, 0, $len + 2) = '';
        }
        $body = $out;
    }
    my $json;
    $json = json_decode($body) if length $body && ($hdr{'content-type'} // '') =~ m{json}i;
    $hdr{':elapsed'} = ($h->{finished} // time) - $h->{started};
    return ($status, \%hdr, $body, $json);
}

# ---------------------------------------------------------------------------------------------
# Pipedrive (issue 3): a stub Pipedrive, the directives pointing the module at it, a tally of what
# the stub holds per gist, and the OpenAPI contract check of every request it received.
#
#   my $pd = $t->pipedrive;                      # StubPipedrive in the test dir, stopped at the end
#   my $ng = $t->nginx(http_extra => $t->pipedrive_conf($pd, existing_gists => 'skip'))->run;
#   GistTest::pipedrive_exactly_once_ok($pd, 'octocat', [map { $_->{id} } @gists], 'name');
#   GistTest::pipedrive_contract_ok([$pd]);      # at the end of a test file

sub pipedrive {
    my ($self, %opt) = @_;
    require StubPipedrive;
    my $list = $self->{pipedrives} ||= [];
    my $pd = StubPipedrive->new(dir => $self->subdir('pipedrive' . (@$list + 1)), %opt);
    push @$list, $pd;
    return $pd;
}

# Short timings for tests (claim_timeout must stay >= 3 x timeout).
our %PIPEDRIVE_TEST_DEFAULTS = (timeout => '1s', retry_base => '100ms', retry_max => '1s',
                                claim_timeout => '3s');

# gist_pipedrive_* directives (http level) for $pd, the token in a 0600 file. Options name the
# directives without the prefix (existing_gists, pipeline_id, stage_id, owner_id, value, currency,
# visible_to, timeout, concurrency, retry_base, retry_max, max_attempts, claim_timeout,
# response_wait; api_url and token override the stub's); undef leaves a directive out.
sub pipedrive_conf {
    my ($self, $pd, %o) = @_;
    my %d = (%PIPEDRIVE_TEST_DEFAULTS, %o);
    my $url = delete $d{api_url} // $pd->url;
    my $tok = delete $d{token} // $pd->token;
    my $file = $self->write_file('pd_token_' . $pd->port . '_' . ++$self->{pd_tokens}, "$tok\n", 0600);
    my $s = "    gist_pipedrive_api_url $url;\n    gist_pipedrive_token_file $file;\n";
    for my $k (sort keys %d) {
        $s .= "    gist_pipedrive_$k $d{$k};\n" if defined $d{$k};
    }
    return $s;
}

# What $pd holds for $login and the gist ids @$ids:
#   { deals => {id => [deals]}, notes => {id => [notes of those deals]}, persons => [named $login],
#     login_deals => N (all deals titled "Gist … by $login"), ok => 1 when exactly one deal per gist,
#     one note per deal, one person, every deal on that person and no other deal for $login,
#     summary => text for diagnostics }
sub pipedrive_tally {
    my ($pd, $login, $ids) = @_;
    my @deals = $pd->deals;
    my @notes = $pd->notes;
    my @persons = grep { lc($_->{name} // '') eq lc $login } $pd->persons;
    my (%deals, %notes);
    my $login_deals = grep { ($_->{title} // '') =~ /^Gist \S+ by \Q$login\E(?::|\z)/i } @deals;
    for my $id (@$ids) {
        my @d = grep { ($_->{title} // '') =~ /^Gist \Q$id\E(?: by |\z)/ } @deals;
        $deals{$id} = \@d;
        my %did = map { $_->{id} => 1 } @d;
        $notes{$id} = [grep { $did{ $_->{deal_id} // 0 } } @notes];
    }
    my $ok = @persons == 1 && $login_deals == @$ids;
    for my $id (@$ids) {
        $ok = 0 unless @{ $deals{$id} } == 1 && @{ $notes{$id} } == 1;
        $ok = 0 if @persons == 1 && grep { ($_->{person_id} // 0) != $persons[0]{id} } @{ $deals{$id} };
    }
    my @bad = grep { @{ $deals{$_} } != 1 || @{ $notes{$_} } != 1 } @$ids;
    my $summary = sprintf('%s: %d persons, %d deals for %d gists, %d notes; per gist (deals/notes) not 1/1: %s',
        $login, scalar @persons, $login_deals, scalar @$ids, scalar(map { @$_ } values %notes),
        join(' ', map { "$_=" . @{ $deals{$_} } . '/' . @{ $notes{$_} } } @bad) || 'none');
    return { deals => \%deals, notes => \%notes, persons => \@persons, login_deals => $login_deals,
             ok => $ok ? 1 : 0, summary => $summary };
}

# Waits up to $timeout s until the stub holds exactly one deal + note per gist and one person.
sub pipedrive_wait {
    my ($pd, $login, $ids, $timeout) = @_;
    return wait_for(sub { pipedrive_tally($pd, $login, $ids)->{ok} }, $timeout // 20, 0.2);
}

# Test::More assertion: exactly one deal and one note per gist id, exactly one person for $login.
sub pipedrive_exactly_once_ok {
    my ($pd, $login, $ids, $name) = @_;
    my $tally = pipedrive_tally($pd, $login, $ids);
    my $ok = Test::More::ok($tally->{ok}, $name // "$login: one deal and one note per gist, one person");
    Test::More::diag($tally->{summary}) unless $tally->{ok};
    return $ok;
}

# Test::More assertion: every request the stubs recorded is one Pipedrive's OpenAPI descriptions
# (t/data/pipedrive-openapi) document, and there was at least one.
sub pipedrive_contract_ok {
    my ($pds, $name) = @_;
    my @req = map { $_->requests } @$pds;
    my @v = eval { require OpenApiContract; OpenApiContract->new->validate_all(@req) };
    push @v, "contract check failed: $@" if $@;
    push @v, 'no request was recorded' unless @req;
    my %seen;
    my @uniq = grep { !$seen{$_}++ } @v;
    my $ok = Test::More::ok(!@v, ($name // 'contract') . ': ' . scalar(@req)
                            . ' recorded Pipedrive requests validate against the OpenAPI descriptions');
    Test::More::diag(scalar(@v) . " violations:\n" . join("\n", @uniq[0 .. ($#uniq < 19 ? $#uniq : 19)])) if @v;
    return $ok;
}

# ---------------------------------------------------------------------------------------------
package GistTest::Redis;

use strict;
use warnings;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

sub new {
    my ($class, $t, %opt) = @_;
    my $self = bless { t => $t, port => $opt{port} // GistTest::free_port(), args => $opt{args} || [],
                       password => $opt{password} }, $class;
    # persist: AOF on (fsync always), so a restart (same dir) keeps the data
    $self->{args} = [@{ $self->{args} }, qw(--appendonly yes --appendfsync always)] if $opt{persist};
    $self->{dir} = $t->subdir("redis-$self->{port}");
    return $self;
}

sub port { $_[0]{port} }
sub pid { $_[0]{pid} }

sub start {
    my ($self) = @_;
    die "redis already running" if $self->{pid};
    my @cmd = ($GistTest::REDIS_SERVER, '--port', $self->{port}, '--bind', '127.0.0.1',
               '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', $self->{dir},
               '--logfile', "$self->{dir}/redis.log",
               (defined $self->{password} ? ('--requirepass', $self->{password}) : ()), @{ $self->{args} });
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$self->{dir}/redis.out";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    my $ok = GistTest::wait_for(sub {
        return 0 if waitpid($pid, WNOHANG) == $pid && ($self->{pid} = undef, 1);
        my $r = eval { $self->cmd('PING') };
        return defined $r && $r eq 'PONG';
    }, 10);
    die "redis-server on port $self->{port} did not answer PING (see $self->{dir})" unless $ok;
    GistTest::note_v("redis on $self->{port} pid $pid");
    return $self;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    my $gone = GistTest::wait_for(sub { waitpid($pid, WNOHANG) == $pid }, 5);
    if (!$gone) { kill 'KILL', $pid; waitpid($pid, 0) }
    return $self;
}

sub restart { my ($self) = @_; $self->stop; $self->start }

sub _encode {
    my @a = @_;
    my $s = '*' . scalar(@a) . "\r\n";
    $s .= '$' . length($_) . "\r\n$_\r\n" for @a;
    return $s;
}

sub _readline {
    my ($sock) = @_;
    local $/ = "\r\n";
    my $l = <$sock>;
    die "redis: connection closed\n" unless defined $l;
    $l =~ s/\r\n\z//;
    return $l;
}

sub _reply {
    my ($sock) = @_;
    my $l = _readline($sock);
    my ($t, $rest) = (substr($l, 0, 1), substr($l, 1));
    return $rest if $t eq '+';
    die "redis error: $rest\n" if $t eq '-';
    return 0 + $rest if $t eq ':';
    if ($t eq '$') {
        return undef if $rest < 0;
        my $data = '';
        while (length($data) < $rest + 2) {
            my $n = read($sock, $data, $rest + 2 - length($data), length $data);
            die "redis: short read\n" unless $n;
        }
        return substr($data, 0, $rest);
    }
    if ($t eq '*') {
        return undef if $rest < 0;
        return [map { _reply($sock) } 1 .. $rest];
    }
    die "redis: bad reply '$l'\n";
}

# One command on a fresh connection: cmd('KEYS', '*') -> ['a', ...]; cmd('HGET', k, f) -> value.
# Redis errors die.
sub cmd { my ($self, @args) = @_; return $self->cmds([@args]) }

# Several commands on one fresh connection (e.g. ['SELECT', 3], ['KEYS', '*']); returns the last reply.
sub cmds {
    my ($self, @cmds) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp',
                                     Timeout => 2) or die "redis connect $self->{port}: $!\n";
    binmode $sock;
    $sock->autoflush(1);
    unshift @cmds, ['AUTH', $self->{password}] if defined $self->{password};
    my $r;
    for my $c (@cmds) {
        print $sock _encode(@$c);
        $r = _reply($sock);
    }
    close $sock;
    return $r;
}

# Sorted list of keys matching $pattern ('*').
sub all_keys { my ($self, $pattern) = @_; return sort @{ $self->cmd('KEYS', $pattern // '*') } }

sub hgetall {
    my ($self, $key) = @_;
    my %h = @{ $self->cmd('HGETALL', $key) };
    return \%h;
}

sub flushall { $_[0]->cmd('FLUSHALL') }

# Many commands at once through redis-cli --pipe (fast: no reply is read back one by one).
sub pipe {
    my ($self, @cmds) = @_;
    my $pid = open(my $p, '|-') // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', '/dev/null';
        exec 'redis-cli', '-p', $self->{port}, '--pipe' or POSIX::_exit(127);
    }
    binmode $p;
    print $p _encode(@$_) for @cmds;
    close $p or die "redis-cli --pipe failed ($?)";
}

# Tracked users as the module stores them after a scan that found no gist (docs/read-path.md),
# written straight into Redis: for tests at a scale POST /user would take too long to reach.
sub seed_users {
    my ($self, $prefix, @logins) = @_;
    $self->pipe(map {
        (['HSET', "${prefix}user:{$_}", 'login', $_, 'tracked_since', '2026-11-01T00:00:00Z',
          'last_scanned_at', '2026-11-01T00:00:00Z', 'gist_count', 0, 'last_scan', 'ok'],
         ['ZADD', "${prefix}users", 0, $_])
    } @logins);
}

# Starts MONITOR on its own connection; $stop->() ends it and returns the commands seen (each a
# line as MONITOR prints it, scripts' commands included).
sub monitor {
    my ($self) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp')
        or die "monitor: $!";
    print $sock _encode('MONITOR');
    my $ok = _readline($sock);
    die "MONITOR: $ok" unless $ok eq '+OK';
    return sub {
        # A marker command ends the capture: everything before it has been sent to us.
        my $marker = 'gist-monitor-end-' . $$ . '-' . int(rand 1e9);
        $self->cmd('ECHO', $marker);
        my @lines;
        while (1) {
            my $l = _readline($sock);
            last if index($l, $marker) >= 0;
            push @lines, $l;
        }
        close $sock;
        return @lines;
    };
}

# ---------------------------------------------------------------------------------------------
package GistTest::Nginx;

use strict;
use warnings;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

sub new {
    my ($class, $t, %opt) = @_;
    $t->{n}++;
    my $self = bless { t => $t, port => $opt{port} // GistTest::free_port(), opt => \%opt }, $class;
    $self->{dir} = $t->subdir("nginx$t->{n}");
    mkdir "$self->{dir}/$_" for qw(logs conf temp);
    chmod 0777, "$self->{dir}/temp";
    $self->{vars} = { %{ $opt{vars} || {} } };
    $self->set_conf($opt{conf} // GistTest::standard_conf(%opt));
    return $self;
}

sub port { $_[0]{port} }
sub dir { $_[0]{dir} }
sub conf_path { "$_[0]{dir}/nginx.conf" }
sub error_log_path { "$_[0]{dir}/error.log" }
sub pid_path { "$_[0]{dir}/nginx.pid" }

sub test_globals {
    my ($self) = @_;
    my $m = $self->{t}{module};
    my $load = defined $m && length $m ? "load_module $m;" : '';
    my $level = $self->{opt}{log_level} // 'info';
    return <<"EOF";
$load
daemon on;
master_process on;
pid $self->{dir}/nginx.pid;
error_log $self->{dir}/error.log $level;
EOF
}

sub test_globals_http {
    my ($self) = @_;
    my $d = "$self->{dir}/temp";
    return <<"EOF";
    access_log $self->{dir}/access.log;
    client_body_temp_path $d/client_body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
EOF
}

# Expand placeholders in $template and write nginx.conf:
#   %%TEST_GLOBALS%% %%TEST_GLOBALS_HTTP%% %%MODULE%% %%PORT%% %%REDISPORT%% %%STUB%% %%STUBPORT%%
#   %%PREFIX%% (this nginx's dir) %%TESTDIR%% and any vars => {NAME => value}.
sub set_conf {
    my ($self, $template, %vars) = @_;
    $self->{template} = $template;
    my %v = (
        TEST_GLOBALS      => $self->test_globals,
        TEST_GLOBALS_HTTP => $self->test_globals_http,
        MODULE            => $self->{t}{module} // '',
        PORT              => $self->{port},
        PREFIX            => $self->{dir},
        TESTDIR           => $self->{t}{dir},
        %{ $self->{vars} }, %vars,
    );
    if (my $r = $self->{opt}{redis}) { $v{REDISPORT} //= $r->port }
    if (my $s = $self->{opt}{stub}) { $v{STUB} //= $s->url; $v{STUBPORT} //= $s->port }
    my $text = $template;
    $text =~ s/%%(\w+)%%/exists $v{$1} ? $v{$1} : die "nginx.conf: unknown placeholder %%$1%%\n"/ge;
    open my $fh, '>', $self->conf_path or die $!;
    print $fh $text;
    close $fh;
    $self->{conf_text} = $text;
    return $self;
}

sub conf_text { $_[0]{conf_text} }

# Line number (1-based) in nginx.conf of the first line matching $re.
sub conf_line {
    my ($self, $re) = @_;
    my @l = split /\n/, $self->{conf_text};
    for my $i (0 .. $#l) { return $i + 1 if $l[$i] =~ $re }
    return undef;
}

sub _run_cmd {
    my (@cmd) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        open STDIN, '<', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

# nginx -t on the current nginx.conf -> (exit code, output)
sub check_conf {
    my ($self) = @_;
    return _run_cmd($GistTest::NGINX, '-t', '-p', "$self->{dir}/", '-c', $self->conf_path);
}

sub master_pid {
    my ($self) = @_;
    open my $fh, '<', $self->pid_path or return undef;
    my $p = <$fh>;
    close $fh;
    return undef unless defined $p && $p =~ /(\d+)/;
    return $1;
}

# Pids of the master's worker processes.
sub worker_pids {
    my ($self) = @_;
    my $m = $self->{master} // $self->master_pid or return ();
    my @w;
    for my $d (glob '/proc/[0-9]*') {
        my ($pid) = $d =~ m{(\d+)$};
        open my $fh, '<', "$d/stat" or next;
        my $st = <$fh>;
        close $fh;
        next unless defined $st && $st =~ /\)\s+\S+\s+(\d+)/ && $1 == $m;
        open my $c, '<', "$d/cmdline" or next;
        my $cmd = <$c> // '';
        close $c;
        push @w, $pid if $cmd =~ /worker process/ && $cmd !~ /shutting down/;
    }
    @w = sort { $a <=> $b } @w;
    return @w;
}

sub worker_count {
    my ($self) = @_;
    my ($n) = ($self->{conf_text} =~ /^\s*worker_processes\s+(\w+)\s*;/m);
    return 1 unless defined $n;
    if ($n eq 'auto') { my @c = grep { /^processor/ } do { open my $f, '<', '/proc/cpuinfo'; <$f> }; return scalar @c || 1 }
    return $n;
}

sub alive { my $p = $_[0]{master}; return $p && kill(0, $p) }

# Start nginx and wait until it accepts connections. Dies if it cannot start.
sub run {
    my ($self) = @_;
    die "nginx already running" if $self->alive;
    unlink $self->pid_path;
    my ($rc, $out) = _run_cmd($GistTest::NGINX, '-p', "$self->{dir}/", '-c', $self->conf_path);
    die "nginx failed to start (exit $rc):\n$out\n" . $self->error_log if $rc;
    my $pid = GistTest::wait_for(sub { $self->master_pid }, 10) or die "nginx wrote no pid file\n" . $self->error_log;
    $self->{master} = $pid;
    my $n = $self->worker_count;
    GistTest::wait_for(sub { $self->worker_pids >= $n }, 10) or die "nginx workers did not start\n" . $self->error_log;
    GistTest::wait_for(sub {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Timeout => 1);
        close $s if $s;
        return $s;
    }, 10) or die "nginx is not listening on $self->{port}\n" . $self->error_log;
    GistTest::note_v("nginx on $self->{port} master $pid");
    return $self;
}

# nginx -s reload, then wait until a full set of new workers is running (old ones may still
# be finishing requests). Returns true when the new workers came up.
sub reload {
    my ($self, $timeout) = @_;
    my %old = map { $_ => 1 } $self->worker_pids;
    my $n = $self->worker_count;
    my ($rc, $out) = _run_cmd($GistTest::NGINX, '-p', "$self->{dir}/", '-c', $self->conf_path, '-s', 'reload');
    if ($rc) { Test::More::diag("nginx -s reload failed ($rc): $out"); return 0 }
    return GistTest::wait_for(sub { (grep { !$old{$_} } $self->worker_pids) >= $n }, $timeout // 10);
}

# Graceful quit (-s quit) and wait for the master to exit; escalates to TERM then KILL.
sub stop {
    my ($self, $timeout) = @_;
    my $m = $self->{master} or return;
    my @children = $self->worker_pids;
    my ($rc) = _run_cmd($GistTest::NGINX, '-p', "$self->{dir}/", '-c', $self->conf_path, '-s', 'quit');
    kill 'QUIT', $m if $rc;
    my $gone = GistTest::wait_for(sub { !kill(0, $m) }, $timeout // 10);
    if (!$gone) { kill 'TERM', $m; $gone = GistTest::wait_for(sub { !kill(0, $m) }, 3) }
    if (!$gone) { kill 'KILL', $m }
    for my $c (@children) { kill 'KILL', $c if kill 0, $c and !$gone }
    delete $self->{master};
    return $gone;
}

sub http { my ($self, @a) = @_; return GistTest::http_request($self->{port}, @a) }
sub http_send { my ($self, @a) = @_; return GistTest::http_send($self->{port}, @a) }

sub error_log {
    my ($self) = @_;
    open my $fh, '<', $self->error_log_path or return '';
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s // '';
}

# Lines of the error log at [alert], [crit] or [emerg].
sub alerts { my ($self) = @_; return grep { /\[(?:alert|crit|emerg)\]/ } split /\n/, $self->error_log }

# Test::More assertion: no [alert]/[crit]/[emerg] in the error log.
sub no_alerts {
    my ($self, $name) = @_;
    my @a = $self->alerts;
    my $ok = Test::More::ok(!@a, $name // "no alert/crit/emerg in $self->{dir}/error.log");
    Test::More::diag(join "\n", @a) if @a;
    return $ok;
}

1;
