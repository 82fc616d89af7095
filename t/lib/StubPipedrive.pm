package StubPipedrive;

# A stub of the Pipedrive API on 127.0.0.1 for the integration tests: just what the module uses.
#
#   POST /api/v2/deals           GET /api/v2/deals/search
#   POST /api/v2/persons         GET /api/v2/persons/search
#   POST /api/v1/notes
#   GET  /api/v2/deals?person_id=&updated_since=…  GET /api/v2/persons?updated_since=…
#   GET  /api/v1/notes?deal_id=…
#        (lists: strongly consistent, unlike the searches; sorted by add_time desc by default)
#
# Every connection is served by its own forked process (the server runs in its own process
# group), so slow answers do not hold up others. Created entities live in state.json and every
# change happens under an flock, so all forks agree on ids and on what exists. Core Perl only.
#
#   my $pd = StubPipedrive->new(dir => $dir);            # token => 'test-pipedrive-token'
#   $pd->url;  $pd->port;  $pd->token;
#   $pd->deals;  $pd->persons;  $pd->notes;              # lists of hashes in creation order
#   $pd->requests;  $pd->requests_for('create_deal');    # what the module sent (see below)
#   $pd->set_behaviour({...});  $pd->set_endpoint(create_deal => {...});  $pd->behaviour;
#   $pd->clear_requests;  $pd->reset;  $pd->stop;
#
# Behaviour (a JSON file read on every request, so a test may change it at any time):
#   {
#     search_lag => 2,    # seconds before a created deal/person shows up in searches (default 0)
#     down       => 1,    # refuse connections (the listening socket is closed) until cleared
#     endpoints  => {     # create_deal search_deals create_person search_persons create_note
#                         # list_deals list_persons list_notes, '*'
#       create_deal => {
#         delay => 0.5,   # seconds before the request is handled (every request)
#         close => { count => 1 },    # read the request, then close without answering or acting
#         hang  => { count => 1, seconds => 30 },  # act (create!), then sleep, then close: the
#                                                  #   client times out after the deal exists
#         fail  => { count => 2, status => 500,    # answer `status` instead of acting
#                    retry_after => 3,             #   Retry-After header (429 default 2)
#                    reset => 2,                   #   x-ratelimit-reset (429 default 2)
#                    error => '...', code => '...',#   envelope text / code
#                    body => 'raw',                #   raw body instead of the envelope
#                    create => 1 },                #   act first, then answer the failure
#       },
#     },
#   }
# count: how many of the next requests get the treatment (decremented under the lock); absent or
# negative: every request. Checked in the order close, hang, fail. '*' applies to all endpoints
# (an endpoint's own entry is used when it has one for that treatment).
# Statuses with Pipedrive's envelopes: 400, 401, 402, 403 (feature_capping_deals_limit), 404,
# 410, 415, 422, 429 (Retry-After + x-ratelimit-*), 500, 502, 503; and 200 with `body` for garbage.
#
# Every request must carry `x-api-token: <token>` (else 401 with Pipedrive's envelope; a token in
# the query string does not count). POST bodies must be application/json (else 415).
# Each request is appended to requests.jsonl (with flock) when its answer is decided:
#   {"method","target","path","query":{...},"headers":{lc name: value},"body","json","endpoint",
#    "status","action" (ok|fail|hang|close|auth|invalid|unknown),"time"}

use strict;
use warnings;

use B ();
use Encode ();
use Fcntl qw(:flock O_WRONLY O_APPEND O_CREAT O_RDWR);
use IO::Select;
use StubHttp;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(strftime WNOHANG);
use Time::HiRes qw(time sleep);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

our %ENDPOINTS = (
    'POST /api/v2/deals'         => 'create_deal',
    'GET /api/v2/deals/search'   => 'search_deals',
    'POST /api/v2/persons'       => 'create_person',
    'GET /api/v2/persons/search' => 'search_persons',
    'POST /api/v1/notes'         => 'create_note',
    'GET /api/v2/deals'          => 'list_deals',
    'GET /api/v2/persons'        => 'list_persons',
    'GET /api/v1/notes'          => 'list_notes',
);
my %FIRST_ID = (person => 101, deal => 5001, note => 90001);    # distinct ranges catch mix-ups
my $INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

sub new {
    my ($class, %opt) = @_;
    my $dir = $opt{dir} or die "StubPipedrive: dir required";
    my $self = bless {
        dir => $dir,
        token => $opt{token} // 'test-pipedrive-token',
        behaviour_file => "$dir/behaviour.json",
        state_file => "$dir/state.json",
        lock_file => "$dir/state.lock",
        log_file => "$dir/requests.jsonl",
        owner => $$,
    }, $class;
    for my $f (@$self{qw(lock_file log_file)}) {
        open my $fh, '>', $f or die "$f: $!";
        close $fh;
        chmod 0666, $f;
    }
    $self->reset;
    $self->set_behaviour($opt{behaviour} || {});

    my $listen = _listen($opt{port} // 0) or die "StubPipedrive: listen: $!";
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
    POSIX::setpgid($pid, $pid);
    $self->{pid} = $pid;
    return $self;
}

sub url { $_[0]{url} }
sub port { $_[0]{port} }
sub token { $_[0]{token} }
sub dir { $_[0]{dir} }
sub log_file { $_[0]{log_file} }

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', -$pid;
    kill 'TERM', $pid;
    for (1 .. 100) { last if waitpid($pid, WNOHANG) == $pid; sleep 0.05 }
    kill 'KILL', -$pid;
    waitpid($pid, WNOHANG);
}

sub DESTROY { my $self = shift; $self->stop if $self->{pid} && $$ == $self->{owner} }

# ------------------------------------------------------------------------------------------
# State shared by all forks (state.json, behaviour.json), always under the lock file.

sub _locked {
    my ($self, $mode, $code) = @_;
    sysopen(my $lk, $self->{lock_file}, O_RDWR | O_CREAT) or die "lock: $!";
    flock $lk, $mode or die "flock: $!";
    my @r = $code->();
    close $lk;
    return wantarray ? @r : $r[0];
}

sub _read_json {
    my ($file, $default) = @_;
    open my $fh, '<', $file or return $default;
    local $/;
    my $s = <$fh>;
    close $fh;
    return (eval { $JSON->decode($s) }) // $default;
}

sub _write_json {
    my ($file, $data) = @_;
    my $tmp = "$file.$$.tmp";
    open my $fh, '>', $tmp or die "$tmp: $!";
    print $fh $JSON->encode($data);
    close $fh;
    chmod 0666, $tmp;
    rename $tmp, $file or die "rename $tmp: $!";
}

sub _empty_state {
    return { next_id => {%FIRST_ID}, persons => [], deals => [], notes => [] };
}

sub _state { my $self = shift; $self->_locked(LOCK_SH, sub { _read_json($self->{state_file}, _empty_state()) }) }

# Forget every entity (ids start again from the first ones).
sub reset {
    my ($self) = @_;
    $self->_locked(LOCK_EX, sub { _write_json($self->{state_file}, _empty_state()) });
    return $self;
}

sub deals { @{ $_[0]->_state->{deals} } }
sub persons { @{ $_[0]->_state->{persons} } }
sub notes { @{ $_[0]->_state->{notes} } }

sub behaviour {
    my $self = shift;
    return $self->_locked(LOCK_SH, sub { _read_json($self->{behaviour_file}, {}) });
}

# Replace the whole behaviour.
sub set_behaviour {
    my ($self, $b) = @_;
    $self->_locked(LOCK_EX, sub { _write_json($self->{behaviour_file}, $b || {}) });
    return $self;
}

# Replace (undef: remove) one endpoint's behaviour; other endpoints and top-level keys stay.
sub set_endpoint {
    my ($self, $name, $e) = @_;
    $self->_locked(LOCK_EX, sub {
        my $b = _read_json($self->{behaviour_file}, {});
        $b->{endpoints} ||= {};
        if (defined $e) { $b->{endpoints}{$name} = $e } else { delete $b->{endpoints}{$name} }
        _write_json($self->{behaviour_file}, $b);
    });
    return $self;
}

# Set top-level keys (search_lag, down) keeping the rest.
sub set_global {
    my ($self, %kv) = @_;
    $self->_locked(LOCK_EX, sub {
        my $b = _read_json($self->{behaviour_file}, {});
        @$b{ keys %kv } = values %kv;
        _write_json($self->{behaviour_file}, $b);
    });
    return $self;
}

sub requests { StubHttp::log_read($_[0]{log_file}) }

sub requests_for {
    my ($self, $endpoint) = @_;
    return grep { ($_->{endpoint} // '') eq $endpoint } $self->requests;
}

sub clear_requests { StubHttp::log_clear($_[0]{log_file}) }

# ------------------------------------------------------------------------------------------
# The server.

sub _listen {
    my ($port) = @_;
    return IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Proto => 'tcp',
                                 Listen => 256, ReuseAddr => 1);
}

sub _serve {
    my ($self, $listen) = @_;
    $SIG{CHLD} = 'IGNORE';
    $SIG{PIPE} = 'IGNORE';
    my $port = $self->{port};
    while (1) {
        my $down = _read_json($self->{behaviour_file}, {})->{down};
        if ($down && $listen) {
            close $listen;
            undef $listen;
        } elsif (!$down && !$listen) {
            $listen = _listen($port);
            if (!$listen) { sleep 0.05; next }
        }
        if (!$listen) { sleep 0.05; next }
        next unless IO::Select->new($listen)->can_read(0.1);
        my $c = $listen->accept or next;
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

sub _read_request { StubHttp::read_request(@_) }

sub _uri_unescape {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

sub _connection {
    my ($self, $c) = @_;
    binmode $c;
    my $buf = '';
    while (1) {
        my $req = _read_request($c, \$buf) or return;
        my ($path, $qs) = split /\?/, $req->{target}, 2;
        my %q;
        for (split /&/, $qs // '') {
            next if $_ eq '';
            my ($k, $v) = split /=/, $_, 2;
            $q{ _uri_unescape($k) } = _uri_unescape($v // '');
        }
        $req->{path} = $path;
        $req->{query} = \%q;
        $req->{endpoint} = $ENDPOINTS{"$req->{method} $path"};
        my $keep = !(($req->{headers}{connection} // '') =~ /close/i) && $req->{version} eq 'HTTP/1.1';
        if (_read_json($self->{behaviour_file}, {})->{down}) {    # an outage drops open connections too
            $self->_log($req, { close => 1, action => 'down' });
            return;
        }

        my $resp = $self->_respond($req);
        $self->_log($req, $resp);
        return if $resp->{close};
        if ($resp->{hang}) {
            sleep $resp->{hang};
            return;
        }
        my $body = $resp->{body} // '';
        my $out = "HTTP/1.1 $resp->{status} " . _reason($resp->{status}) . "\r\n";
        my @h = _merge_headers(_base_headers($req->{endpoint}), @{ $resp->{headers} || [] },
                 'Content-Length' => length $body, Connection => ($keep ? 'keep-alive' : 'close'));
        for (my $i = 0; $i < @h; $i += 2) { $out .= "$h[$i]: $h[$i + 1]\r\n" }
        $out .= "\r\n$body";
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
    my ($self, $req, $resp) = @_;
    my $body = $req->{body} // '';
    my $text = eval { Encode::decode('UTF-8', $body, Encode::FB_CROAK | Encode::LEAVE_SRC) };
    $text = Encode::decode('ISO-8859-1', $body) unless defined $text;
    my $json = length $body ? eval { $JSON->decode($body) } : undef;
    my $rec = {
        method => $req->{method}, target => $req->{target}, path => $req->{path},
        query => { map { $_ => _text($req->{query}{$_}) } keys %{ $req->{query} } },
        headers => $req->{headers}, body => $text, json => $json, endpoint => $req->{endpoint},
        status => $resp->{close} || $resp->{hang} ? undef : $resp->{status},
        action => $resp->{action}, time => time,
    };
    StubHttp::log_append($self->{log_file}, $rec);
}

sub _text {
    my ($bytes) = @_;
    my $t = eval { Encode::decode('UTF-8', $bytes, Encode::FB_CROAK | Encode::LEAVE_SRC) };
    return defined $t ? $t : Encode::decode('ISO-8859-1', $bytes);
}

my %REASON = (200 => 'OK', 201 => 'Created', 400 => 'Bad Request', 401 => 'Unauthorized',
              402 => 'Payment Required', 403 => 'Forbidden', 404 => 'Not Found',
              405 => 'Method Not Allowed', 410 => 'Gone', 415 => 'Unsupported Media Type',
              422 => 'Unprocessable Entity', 429 => 'Too Many Requests',
              500 => 'Internal Server Error', 502 => 'Bad Gateway', 503 => 'Service Unavailable',
              504 => 'Gateway Timeout');
sub _reason { $REASON{ $_[0] } // 'Status' }

# A header list where a later name (any case) replaces an earlier one in place.
sub _merge_headers {
    my (@kv) = @_;
    my (@out, %at);
    for (my $i = 0; $i < @kv; $i += 2) {
        my $k = lc $kv[$i];
        if (exists $at{$k}) { $out[$at{$k} + 1] = $kv[$i + 1]; next }
        $at{$k} = scalar @out;
        push @out, $kv[$i], $kv[$i + 1];
    }
    return @out;
}

sub _is_search { defined $_[0] && $_[0] =~ /^search_/ }

sub _base_headers {
    my ($endpoint) = @_;
    my $limit = _is_search($endpoint) ? 10 : 80;
    return (
        'Date' => strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime),
        'Content-Type' => 'application/json; charset=utf-8',
        'x-ratelimit-limit' => $limit,
        'x-ratelimit-remaining' => $limit - 1,
        'x-ratelimit-reset' => 2,
        'x-daily-requests-left' => 9999,
        'x-correlation-id' => sprintf('%08x-%04x', int(rand 2**32), $$ & 0xffff),
    );
}

my %DEFAULT_ERROR = (
    400 => ['Bad request', undef],
    401 => ['unauthorized access', undef],
    402 => ['Company account is not open (possible reason: trial expired, payment details not entered).', undef],
    403 => ["Couldn't add the deal. Open deals limit reached.", 'feature_capping_deals_limit'],
    404 => ['Not found', undef],
    405 => ['Method not allowed', undef],
    410 => ['Gone', undef],
    415 => ['Unsupported Media Type', undef],
    422 => ['Unprocessable entity', undef],
    429 => ['Request over limit', undef],
    500 => ['Internal server error', undef],
    502 => ['Bad gateway', undef],
    503 => ['Service unavailable: maintenance', undef],
);

# Pipedrive's error envelope; 401/402/429 carry the numeric errorCode like the real API.
sub _error {
    my ($status, %o) = @_;
    my ($msg, $code) = @{ $DEFAULT_ERROR{$status} // ['Error', undef] };
    $msg = $o{error} if defined $o{error};
    $code = $o{code} if exists $o{code};
    my %b = (success => JSON::PP::false, error => $msg, error_info => $INFO, data => undef,
             additional_data => undef);
    $b{code} = $code if defined $code;
    $b{errorCode} = 0 + $status if $status == 401 || $status == 402 || $status == 429;
    my @h;
    if ($status == 429) {
        push @h, 'Retry-After' => $o{retry_after} // 2 unless defined $o{retry_after} && $o{retry_after} eq '';
        push @h, 'x-ratelimit-remaining' => 0, 'x-ratelimit-reset' => $o{reset} // 2;
    } elsif (defined $o{retry_after} && $o{retry_after} ne '') {
        push @h, 'Retry-After' => $o{retry_after};
    }
    return { status => $status, headers => \@h,
             body => defined $o{body} ? $o{body} : $JSON->encode(\%b) };
}

# Takes one use of treatment $kind ('close'|'hang'|'fail') for $endpoint, if any applies; under
# the lock, so "the next N requests" holds across forks.
sub _take {
    my ($self, $endpoint, $kind) = @_;
    return $self->_locked(LOCK_EX, sub {
        my $b = _read_json($self->{behaviour_file}, {});
        my $eps = $b->{endpoints} || {};
        for my $name ($endpoint, '*') {
            my $e = $eps->{$name} or next;
            my $t = $e->{$kind} or next;
            $t = {} unless ref $t eq 'HASH';
            my $count = $t->{count};
            return { %$t } if !defined $count || $count < 0;
            next if $count == 0;
            $t->{count} = $count - 1;
            $e->{$kind} = $t;
            _write_json($self->{behaviour_file}, $b);
            return { %$t };
        }
        return undef;
    });
}

sub _respond {
    my ($self, $req) = @_;
    my $ep = $req->{endpoint};
    my $b = _read_json($self->{behaviour_file}, {});
    my $eps = $b->{endpoints} || {};
    my $delay = (defined $ep && $eps->{$ep} && $eps->{$ep}{delay}) || ($eps->{'*'} && $eps->{'*'}{delay}) || 0;
    sleep $delay if $delay > 0;

    my $tok = $req->{headers}{'x-api-token'};
    if (!defined $tok || $tok ne $self->{token}) {
        return { %{ _error(401) }, action => 'auth' };
    }
    if (!defined $ep) {
        my $known = grep { m{ \Q$req->{path}\E$} } keys %ENDPOINTS;
        return { %{ _error($known ? 405 : 404, error => $known ? 'Method not allowed' : 'Unknown method .') },
                 action => 'unknown' };
    }

    if ($self->_take($ep, 'close')) {
        return { close => 1, action => 'close' };
    }
    if (my $h = $self->_take($ep, 'hang')) {
        my $r = $self->_act($req, $b);
        return { %$r, hang => $h->{seconds} // 30, action => 'hang' };
    }
    if (my $f = $self->_take($ep, 'fail')) {
        $self->_act($req, $b) if $f->{create};
        my $status = $f->{status} // 500;
        return { %{ _error($status, %$f) }, action => 'fail' };
    }
    return $self->_act($req, $b);
}

# ------------------------------------------------------------------------------------------
# The endpoints.

sub _now_iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime) }
sub _now_v1 { strftime('%Y-%m-%d %H:%M:%S', gmtime) }

# A JSON integer (not a string holding digits): look at the scalar's flags before anything
# stringifies it.
sub _is_int {
    my ($v) = @_;
    return 0 unless defined $v && !ref $v;
    my $f = B::svref_2object(\$v)->FLAGS;
    return 0 if $f & B::SVp_POK;
    return 0 unless $f & (B::SVp_IOK | B::SVp_NOK);
    return $v == int($v) && $v > 0;
}

sub _json_body {
    my ($req) = @_;
    my $ct = $req->{headers}{'content-type'} // '';
    return (undef, _error(415, error => 'Unsupported Media Type: use application/json'))
        unless $ct =~ m{^application/json\b}i;
    my $j = eval { $JSON->decode($req->{body}) };
    return (undef, _error(400, error => 'Invalid JSON body', code => 'ERR_SCHEMA_VALIDATION_FAILED'))
        unless ref $j eq 'HASH';
    return ($j, undef);
}

sub _ok {
    my ($status, $data, $additional) = @_;
    return { status => $status, action => 'ok', headers => [],
             body => $JSON->encode({ success => JSON::PP::true, data => $data,
                                     additional_data => $additional }) };
}

sub _act {
    my ($self, $req, $b) = @_;
    my $ep = $req->{endpoint};
    return $self->_create_deal($req) if $ep eq 'create_deal';
    return $self->_create_person($req) if $ep eq 'create_person';
    return $self->_create_note($req) if $ep eq 'create_note';
    return $self->_list_notes($req) if $ep eq 'list_notes';
    return $self->_list($req, $ep eq 'list_deals' ? 'deal' : 'person') if $ep =~ /^list_/;
    return $self->_search($req, $b->{search_lag} // 0, $ep eq 'search_deals' ? 'deal' : 'person');
}

sub _invalid {
    my ($status, $msg, $code) = @_;
    return { %{ _error($status, error => $msg, code => $code) }, action => 'invalid' };
}

sub _create_deal {
    my ($self, $req) = @_;
    my ($j, $err) = _json_body($req);
    return { %$err, action => 'invalid' } if $err;
    return _invalid(400, 'Validation failed: title: Required', 'ERR_SCHEMA_VALIDATION_FAILED')
        unless defined $j->{title} && !ref $j->{title} && length $j->{title};
    for my $k (qw(person_id owner_id pipeline_id stage_id visible_to org_id)) {
        return _invalid(400, "Validation failed: $k: Expected number", 'ERR_SCHEMA_VALIDATION_FAILED')
            if exists $j->{$k} && !_is_int($j->{$k});
    }
    my $deal;
    my $missing = $self->_locked(LOCK_EX, sub {
        my $s = _read_json($self->{state_file}, _empty_state());
        if (defined $j->{person_id} && !grep { $_->{id} == $j->{person_id} } @{ $s->{persons} }) {
            return 'Person not found';
        }
        my $now = _now_iso();
        $deal = {
            id => $s->{next_id}{deal}++, title => $j->{title}, creator_user_id => 1,
            owner_id => $j->{owner_id} // 1, person_id => $j->{person_id}, org_id => $j->{org_id},
            pipeline_id => $j->{pipeline_id} // 1, stage_id => $j->{stage_id} // 1,
            value => $j->{value} // 0, currency => $j->{currency} // 'EUR',
            add_time => $now, update_time => $now, stage_change_time => undef,
            status => 'open', is_archived => JSON::PP::false, is_deleted => JSON::PP::false,
            probability => undef, lost_reason => undef, visible_to => $j->{visible_to} // 3,
            close_time => undef, won_time => undef, lost_time => undef, expected_close_date => undef,
            label_ids => [], origin => 'API', origin_id => undef, channel => undef,
            channel_id => undef, custom_fields => {}, created_at_epoch => time,
        };
        push @{ $s->{deals} }, $deal;
        _write_json($self->{state_file}, $s);
        return undef;
    });
    return _invalid(404, $missing) if $missing;
    my %d = %$deal;
    delete $d{created_at_epoch};
    return _ok(200, \%d, undef);
}

sub _create_person {
    my ($self, $req) = @_;
    my ($j, $err) = _json_body($req);
    return { %$err, action => 'invalid' } if $err;
    return _invalid(400, 'Validation failed: name: Required', 'ERR_SCHEMA_VALIDATION_FAILED')
        unless defined $j->{name} && !ref $j->{name} && length $j->{name};
    my $person = $self->_locked(LOCK_EX, sub {
        my $s = _read_json($self->{state_file}, _empty_state());
        my $now = _now_iso();
        my $p = {
            id => $s->{next_id}{person}++, name => $j->{name}, first_name => $j->{name},
            last_name => undef, owner_id => $j->{owner_id} // 1, org_id => undef,
            add_time => $now, update_time => $now, emails => [], phones => [],
            is_deleted => JSON::PP::false, visible_to => $j->{visible_to} // 3, label_ids => [],
            picture_id => undef, custom_fields => {}, created_at_epoch => time,
        };
        push @{ $s->{persons} }, $p;
        _write_json($self->{state_file}, $s);
        return $p;
    });
    my %p = %$person;
    delete $p{created_at_epoch};
    return _ok(200, \%p, undef);
}

sub _create_note {
    my ($self, $req) = @_;
    my ($j, $err) = _json_body($req);
    return { %$err, action => 'invalid' } if $err;
    return _invalid(400, 'Note content is required') unless defined $j->{content} && !ref $j->{content}
        && length $j->{content};
    return _invalid(400, 'Note must be attached to a deal, person, organization, lead or project')
        unless defined $j->{deal_id};
    return _invalid(400, 'deal_id must be an integer') unless _is_int($j->{deal_id});
    my $note;
    my $missing = $self->_locked(LOCK_EX, sub {
        my $s = _read_json($self->{state_file}, _empty_state());
        my ($deal) = grep { $_->{id} == $j->{deal_id} } @{ $s->{deals} };
        return 'Deal not found' unless $deal;
        my $now = _now_v1();
        $note = {
            id => $s->{next_id}{note}++, user_id => 1, deal_id => 0 + $j->{deal_id},
            person_id => $deal->{person_id}, org_id => undef, lead_id => undef, project_id => undef,
            content => $j->{content}, add_time => $now, update_time => $now,
            active_flag => JSON::PP::true, pinned_to_deal_flag => JSON::PP::false,
            pinned_to_person_flag => JSON::PP::false, pinned_to_organization_flag => JSON::PP::false,
            pinned_to_lead_flag => JSON::PP::false, last_update_user_id => undef,
            deal => { title => $deal->{title} }, person => undef, organization => undef,
            user => { email => 'admin@example.com', name => 'Admin', icon_url => undef,
                      is_you => JSON::PP::true },
        };
        push @{ $s->{notes} }, $note;
        _write_json($self->{state_file}, $s);
        return undef;
    });
    return _invalid(400, $missing) if $missing;
    return _ok(201, $note, undef);
}

sub _search {
    my ($self, $req, $lag, $type) = @_;
    my $q = $req->{query};
    my $term = $q->{term};
    my $exact = ($q->{exact_match} // 'false') eq 'true';
    return _invalid(400, 'term is required', 'ERR_SCHEMA_VALIDATION_FAILED')
        unless defined $term && length $term;
    my $tl = length _text($term);
    return _invalid(400, 'Search term must be at least 2 characters long') if $tl < ($exact ? 1 : 2);
    my $field = $type eq 'deal' ? 'title' : 'name';
    my @fields = split /,/, $q->{fields} // $field;
    my $s = $self->_state;
    my $cutoff = time - $lag;
    my $lt = lc _text($term);
    my @hits;
    for my $e (@{ $s->{ $type . 's' } }) {
        next if $e->{created_at_epoch} > $cutoff;                 # not indexed yet
        next if $type eq 'deal' && defined $q->{person_id}
            && (!defined $e->{person_id} || $e->{person_id} != $q->{person_id});
        next unless grep { $_ eq $field } @fields;
        my $v = lc $e->{$field};
        my $match = $exact ? $v eq $lt : index($v, $lt) >= 0;
        next unless $match;
        push @hits, $e;
    }
    my $limit = $q->{limit} && $q->{limit} =~ /^\d+$/ ? $q->{limit} : 100;
    splice @hits, $limit if @hits > $limit;
    my @items = map {
        my $e = $_;
        $type eq 'deal'
            ? { result_score => 0.5, item => {
                  id => $e->{id}, type => 'deal', title => $e->{title}, value => $e->{value},
                  currency => $e->{currency}, status => $e->{status}, visible_to => $e->{visible_to},
                  owner => { id => $e->{owner_id} }, stage => { id => $e->{stage_id}, name => 'Lead In' },
                  person => defined $e->{person_id} ? { id => $e->{person_id}, name => $self->_person_name($s, $e->{person_id}) } : undef,
                  organization => undef, custom_fields => [], notes => [],
                  is_archived => JSON::PP::false } }
            : { result_score => 1, item => {
                  id => $e->{id}, type => 'person', name => $e->{name}, phones => [], emails => [],
                  visible_to => $e->{visible_to}, owner => { id => $e->{owner_id} },
                  organization => undef, custom_fields => [], notes => [] } };
    } @hits;
    return _ok(200, { items => \@items }, { next_cursor => undef });
}

sub _list {
    my ($self, $req, $type) = @_;
    my $q = $req->{query};
    my $s = $self->_state;
    my @all = @{ $s->{ $type . 's' } };
    if ($type eq 'deal' && defined $q->{person_id}) {
        @all = grep { defined $_->{person_id} && $_->{person_id} == $q->{person_id} } @all;
    }
    @all = grep { $_->{update_time} ge $q->{updated_since} } @all if defined $q->{updated_since};
    my $by = $q->{sort_by} // 'id';
    $by = 'id' unless $by =~ /^(?:id|add_time|update_time)$/;
    @all = sort { $by eq 'id' ? $a->{id} <=> $b->{id} : ($a->{$by} cmp $b->{$by} || $a->{id} <=> $b->{id}) } @all;
    @all = reverse @all if ($q->{sort_direction} // 'asc') eq 'desc';
    my $limit = $q->{limit} && $q->{limit} =~ /^\d+$/ ? $q->{limit} : 100;
    splice @all, $limit if @all > $limit;
    my @data = map { my %e = %$_; delete $e{created_at_epoch}; \%e } @all;
    return _ok(200, \@data, { next_cursor => undef });
}

sub _list_notes {
    my ($self, $req) = @_;
    my $q = $req->{query};
    my @all = @{ $self->_state->{notes} };
    @all = grep { $_->{deal_id} == $q->{deal_id} } @all if defined $q->{deal_id} && $q->{deal_id} =~ /^\d+$/;
    my $start = $q->{start} && $q->{start} =~ /^\d+$/ ? $q->{start} : 0;
    my $limit = $q->{limit} && $q->{limit} =~ /^\d+$/ ? $q->{limit} : 100;
    my $total = @all;
    @all = grep { defined } @all[$start .. $start + $limit - 1];
    return _ok(200, @all ? \@all : undef,
               { pagination => { start => 0 + $start, limit => 0 + $limit,
                                 more_items_in_collection => ($start + $limit < $total ? JSON::PP::true : JSON::PP::false) } });
}

sub _person_name {
    my ($self, $s, $id) = @_;
    my ($p) = grep { $_->{id} == $id } @{ $s->{persons} };
    return $p ? $p->{name} : undef;
}

1;
