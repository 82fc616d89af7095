package OpenApiContract;

# Checks recorded HTTP requests against Pipedrive's official OpenAPI descriptions (v1 and v2),
# for the contract test: every request the module sent must be one Pipedrive documents.
# The descriptions' facts live in t/data/pipedrive-openapi/{v1,v2}.json, extracted from the
# vendor's files by t/tools/extract-pipedrive-contract.
#
#   my $c = OpenApiContract->new;                      # or dir => a folder with v1.json, v2.json
#   my @violations = $c->validate({
#       method  => 'POST',
#       path    => '/api/v2/deals',             # or target => '/api/v2/deals?x=1', or url => 'http://…'
#       query   => { term => 'x' },             # decoded values (taken from target/url when absent)
#       headers => { 'x-api-token' => '…', 'content-type' => 'application/json' },  # any case
#       body    => '{"title":"…"}',             # raw JSON text, or json => { … } already decoded
#   });
#   # () when the request is fine, else human-readable strings, e.g.
#   #   "POST /api/v2/deals: body.title: required property missing"
#   my @all = $c->validate_all(@requests);      # StubPipedrive->requests records work as they are
#
# Which description: a path under /api/v2 uses v2 (server https://api.pipedrive.com/api/v2);
# /api/v1 (company-domain form) and /v1 (the v1 description's server) use v1.
# Checked: the path (templates like /deals/{id} too) and method exist and are not deprecated;
# path and query parameters are declared and have the declared type/enum (comma-separated lists
# for enum strings); required parameters are present; the x-api-token header is present when the
# operation accepts the api_key scheme (a token in the query string is reported); the body's
# media type is declared; the JSON body matches the schema: $ref, allOf (merged), oneOf/anyOf (at
# least one branch), nullable, type, enum, format date/uuid, required, items, nested properties,
# additionalProperties false. Option strict => 1 (the default) also rejects top-level body
# properties the schema does not declare unless it says additionalProperties: true, which catches
# misspelt fields that Pipedrive would silently ignore.

use strict;
use warnings;

use B ();
use File::Basename ();
use File::Spec ();
use JSON::PP ();

my %METHODS = map { $_ => 1 } qw(get put post delete options head patch trace);

sub new {
    my ($class, %opt) = @_;
    my $dir = $opt{dir} // default_dir();
    my $self = bless { strict => $opt{strict} // 1, specs => [] }, $class;
    for my $name (qw(v2 v1)) {
        my $file = "$dir/$name.json";
        open my $fh, '<:raw', $file or die "OpenApiContract: $file: $!";
        my $doc = JSON::PP->new->utf8->decode(do { local $/; <$fh> });
        my @bases;
        for my $server (@{ $doc->{servers} || [] }) {
            my ($path) = ($server->{url} // '') =~ m{^(?:[a-z]+://[^/]+)?(/.*?)/*$};
            next unless defined $path;
            push @bases, $path;
            # https://api.pipedrive.com/v1 is https://{company}.pipedrive.com/api/v1 as well.
            push @bases, "/api$path" unless $path =~ m{^/api/};
        }
        push @{ $self->{specs} }, { name => $name, doc => $doc, bases => \@bases };
    }
    return $self;
}

# The repository's extracted descriptions.
sub default_dir {
    return File::Spec->catdir(File::Basename::dirname(File::Spec->rel2abs(__FILE__)),
                              File::Spec->updir, 'data', 'pipedrive-openapi');
}

# ------------------------------------------------------------------------------------------

sub validate_all {
    my ($self, @requests) = @_;
    my @out;
    for my $r (@requests) {
        push @out, $self->validate($r);
    }
    return @out;
}

sub validate {
    my ($self, $req) = @_;
    my $method = uc($req->{method} // 'GET');
    my ($path, $query) = _split_target($req);
    my %headers = map { lc($_) => $req->{headers}{$_} } keys %{ $req->{headers} || {} };
    my $label = "$method $path";
    my @v;
    my $bad = sub { push @v, "$label: $_[0]" };

    my ($spec, $rel) = $self->_spec_for($path);
    if (!$spec) {
        $bad->('not under a documented API base (' . join(', ', map { @{ $_->{bases} } } @{ $self->{specs} }) . ')');
        return @v;
    }
    my ($template, $item, $path_params) = _find_path($spec->{doc}, $rel);
    if (!$item) {
        $bad->("path $rel is not in the $spec->{name} description");
        return @v;
    }
    my $op = $item->{ lc $method };
    if (!$op || !$METHODS{ lc $method }) {
        my $allowed = join(', ', map { uc } grep { $METHODS{$_} } sort keys %$item);
        $bad->("method $method is not documented for $template (documented: $allowed)");
        return @v;
    }
    $bad->("operation $method $template ($op->{operationId}) is deprecated") if $op->{deprecated};

    # Parameters (path-level, overridden by operation-level with the same name and location).
    my %params;
    for my $p (map { $self->_resolve($spec->{doc}, $_) } @{ $item->{parameters} || [] }, @{ $op->{parameters} || [] }) {
        $params{"$p->{in}:$p->{name}"} = $p;
    }
    for my $key (sort keys %params) {
        my $p = $params{$key};
        my $schema = $self->_resolve($spec->{doc}, $p->{schema} || {});
        if ($p->{in} eq 'path') {
            my $val = $path_params->{ $p->{name} };
            next unless defined $val;
            push @v, map { "$label: path parameter $p->{name}: $_" } _check_param_value($val, $schema);
        } elsif ($p->{in} eq 'query') {
            if (!exists $query->{ $p->{name} }) {
                $bad->("required query parameter $p->{name} is missing") if $p->{required};
                next;
            }
            push @v, map { "$label: query parameter $p->{name}: $_" }
                _check_param_value($query->{ $p->{name} }, $schema);
        } elsif ($p->{in} eq 'header') {
            $bad->("required header $p->{name} is missing")
                if $p->{required} && !defined $headers{ lc $p->{name} };
        }
    }
    for my $name (sort keys %$query) {
        next if $params{"query:$name"};
        if ($name eq 'api_token') {
            $bad->('API token in the query string (api_token): it belongs in the x-api-token header');
        } else {
            $bad->("query parameter $name is not documented");
        }
    }

    # Security: one of the operation's alternatives must be met; we check api_key and oauth2.
    my $security = exists $op->{security} ? $op->{security} : $spec->{doc}{security};
    if ($security && @$security) {
        my $schemes = $spec->{doc}{components}{securitySchemes} || {};
        my ($met, @wanted);
        for my $alt (@$security) {
            my $all = 1;
            for my $name (keys %$alt) {
                my $s = $schemes->{$name} or do { $all = 0; next };
                if ($s->{type} eq 'apiKey' && $s->{in} eq 'header') {
                    push @wanted, "$s->{name} header";
                    $all = 0 unless defined $headers{ lc $s->{name} } && length $headers{ lc $s->{name} };
                } elsif ($s->{type} eq 'oauth2') {
                    push @wanted, 'Authorization: Bearer';
                    $all = 0 unless ($headers{authorization} // '') =~ /^Bearer \S/;
                } else {
                    $all = 0;
                }
            }
            $met ||= $all;
        }
        $bad->('no credentials: expected ' . join(' or ', @wanted) . ' (security scheme api_key)') unless $met;
    }

    # Body.
    my $has_body = defined $req->{json} || (defined $req->{body} && length $req->{body});
    my $rb = $op->{requestBody} ? $self->_resolve($spec->{doc}, $op->{requestBody}) : undef;
    if (!$rb) {
        $bad->('a body was sent but the operation takes none') if $has_body;
        return @v;
    }
    if (!$has_body) {
        $bad->('the request body is required but missing') if $rb->{required};
        return @v;
    }
    my $content = $rb->{content} || {};
    my ($ctype) = lc($headers{'content-type'} // '') =~ m{^\s*([^;\s]+)};
    if (!defined $ctype) {
        $bad->('no Content-Type for the body (documented: ' . join(', ', sort keys %$content) . ')');
        return @v;
    }
    if (!$content->{$ctype}) {
        $bad->("Content-Type $ctype is not documented (documented: " . join(', ', sort keys %$content) . ')');
        return @v;
    }
    return @v unless $ctype =~ m{json};
    my $json = $req->{json};
    if (!defined $json) {
        $json = eval { JSON::PP->new->utf8->allow_nonref->decode($req->{body}) };
        if ($@) {
            $bad->('the body is not valid JSON');
            return @v;
        }
    }
    my $schema = $content->{$ctype}{schema} || {};
    push @v, map { "$label: $_" } $self->_check($spec->{doc}, $json, $schema, 'body', $self->{strict});
    return @v;
}

# ------------------------------------------------------------------------------------------
# Locating the operation.

sub _split_target {
    my ($req) = @_;
    my $target = $req->{path} // $req->{target} // $req->{url} // '/';
    $target =~ s{^[a-z]+://[^/]+}{}i;
    my ($path, $qs) = split /\?/, $target, 2;
    my $query = $req->{query};
    if (!$query) {
        $query = {};
        for (split /&/, $qs // '') {
            next if $_ eq '';
            my ($k, $v) = split /=/, $_, 2;
            $query->{ _unescape($k) } = _unescape($v // '');
        }
    }
    return ($path, $query);
}

sub _unescape {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

sub _spec_for {
    my ($self, $path) = @_;
    my ($best, $rel, $len) = (undef, undef, -1);
    for my $spec (@{ $self->{specs} }) {
        for my $base (@{ $spec->{bases} }) {
            if (($path eq $base || index($path, "$base/") == 0) && length $base > $len) {
                ($best, $rel, $len) = ($spec, substr($path, length $base) || '/', length $base);
            }
        }
    }
    return ($best, $rel);
}

# Literal paths win over templated ones (/deals/search before /deals/{id}).
sub _find_path {
    my ($doc, $rel) = @_;
    my $paths = $doc->{paths} || {};
    return ($rel, $paths->{$rel}, {}) if $paths->{$rel};
    my @segs = split m{/}, $rel, -1;
    my ($best, $best_params, $best_literals) = (undef, undef, -1);
    for my $tpl (keys %$paths) {
        my @t = split m{/}, $tpl, -1;
        next unless @t == @segs;
        my (%params, $literals);
        my $ok = 1;
        for my $i (0 .. $#t) {
            if ($t[$i] =~ /^\{(.+)\}$/) {
                $ok = 0, last if $segs[$i] eq '';
                $params{$1} = _unescape($segs[$i]);
            } elsif ($t[$i] eq $segs[$i]) {
                $literals++;
            } else {
                $ok = 0;
                last;
            }
        }
        next unless $ok;
        if (($literals // 0) > $best_literals) {
            ($best, $best_params, $best_literals) = ($tpl, \%params, $literals // 0);
        }
    }
    return $best ? ($best, $paths->{$best}, $best_params) : ();
}

sub _resolve {
    my ($self, $doc, $node) = @_;
    my $seen = 0;
    while (ref $node eq 'HASH' && defined $node->{'$ref'}) {
        die "OpenApiContract: \$ref loop at $node->{'$ref'}" if ++$seen > 50;
        my $ref = $node->{'$ref'};
        $ref =~ s{^#/}{} or die "OpenApiContract: external \$ref $ref not supported";
        my $n = $doc;
        for my $part (split m{/}, $ref) {
            $part =~ s/~1/\//g;
            $part =~ s/~0/~/g;
            $n = $n->{$part};
            die "OpenApiContract: \$ref $node->{'$ref'} not found" unless defined $n;
        }
        $node = $n;
    }
    return $node;
}

# ------------------------------------------------------------------------------------------
# Parameter values arrive as text.

sub _check_param_value {
    my ($val, $schema) = @_;
    my $type = $schema->{type} // 'string';
    my @parts = ($val);
    if ($type eq 'array') {
        @parts = split /,/, $val, -1;
        $schema = $schema->{items} || {};
        $type = $schema->{type} // 'string';
    }
    my @v;
    for my $p (@parts) {
        if ($type eq 'integer') {
            push @v, "'$p' is not an integer" unless $p =~ /^-?[0-9]+$/;
        } elsif ($type eq 'number') {
            push @v, "'$p' is not a number" unless $p =~ /^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
        } elsif ($type eq 'boolean') {
            push @v, "'$p' is not a boolean (true or false)" unless $p eq 'true' || $p eq 'false';
        } elsif ($schema->{enum}) {
            my %ok = map { $_ => 1 } @{ $schema->{enum} };
            # Pipedrive documents some enum strings as comma-separated lists (fields=name,email).
            my @items = $ok{$p} ? ($p) : split /,/, $p, -1;
            for my $i (@items) {
                push @v, "'$i' is not one of: " . join(', ', @{ $schema->{enum} }) unless $ok{$i};
            }
        }
    }
    return @v;
}

# ------------------------------------------------------------------------------------------
# JSON values against schemas.

sub _json_type {
    my ($v) = @_;
    return 'null' unless defined $v;
    if (ref $v) {
        return 'boolean' if JSON::PP::is_bool($v);
        return 'object' if ref $v eq 'HASH';
        return 'array' if ref $v eq 'ARRAY';
        return 'unknown';
    }
    my $flags = B::svref_2object(\$v)->FLAGS;
    return 'string' if $flags & B::SVp_POK;
    if ($flags & (B::SVp_IOK | B::SVp_NOK)) {
        return $v == int($v) ? 'integer' : 'number';
    }
    return 'string';
}

sub _type_ok {
    my ($want, $have) = @_;
    return 1 if $want eq $have;
    return 1 if $want eq 'number' && $have eq 'integer';
    return 0;
}

# allOf parts merged into one object view: properties, required and additionalProperties.
sub _merge_all_of {
    my ($self, $doc, $schema) = @_;
    my %m = (properties => {}, required => [], has_props => 0);
    my @queue = ($schema);
    while (my $s = shift @queue) {
        $s = $self->_resolve($doc, $s);
        push @queue, @{ $s->{allOf} } if $s->{allOf};
        if ($s->{properties}) {
            $m{has_props} = 1;
            %{ $m{properties} } = (%{ $m{properties} }, %{ $s->{properties} });
        }
        push @{ $m{required} }, @{ $s->{required} || [] };
        if (exists $s->{additionalProperties}) {
            my $ap = $s->{additionalProperties};
            # true (or a schema) anywhere opens the object; false closes it unless opened.
            if (ref $ap || $ap) { $m{additional} = 'open' }
            elsif (($m{additional} // '') ne 'open') { $m{additional} = 'closed' }
        }
        $m{type} //= $s->{type};
        $m{nullable} ||= $s->{nullable};
    }
    return \%m;
}

sub _check {
    my ($self, $doc, $value, $schema, $where, $strict) = @_;
    $schema = $self->_resolve($doc, $schema || {});
    my $have = _json_type($value);

    if ($have eq 'null') {
        my $nullable = $schema->{nullable};
        for my $s (@{ $schema->{allOf} || [] }) { $nullable ||= $self->_resolve($doc, $s)->{nullable} }
        return () if $nullable;
        return () if !$schema->{type} && !$schema->{allOf} && !$schema->{oneOf} && !$schema->{anyOf};
        return ("$where: null is not allowed");
    }

    for my $kind (qw(oneOf anyOf)) {
        next unless $schema->{$kind};
        my $matched = grep { !$self->_check($doc, $value, $_, $where, 0) } @{ $schema->{$kind} };
        return ("$where: matches none of the $kind alternatives") unless $matched;
    }

    my @v;
    my $merged = $self->_merge_all_of($doc, $schema);
    my $type = $merged->{type};
    if ($type && !_type_ok($type, $have)) {
        return ("$where: expected $type, got $have");
    }
    for my $s ($schema, map { $self->_resolve($doc, $_) } @{ $schema->{allOf} || [] }) {
        if ($s->{enum} && $have ne 'object' && $have ne 'array') {
            my $val = $have eq 'boolean' ? ($value ? 'true' : 'false') : $value;
            push @v, "$where: '$val' is not one of: " . join(', ', @{ $s->{enum} })
                unless grep { defined $_ && "$_" eq "$val" } @{ $s->{enum} };
        }
        if ($have eq 'string' && $s->{format}) {
            if ($s->{format} eq 'date' && $value !~ /^\d{4}-\d{2}-\d{2}$/) {
                push @v, "$where: '$value' is not a date (YYYY-MM-DD)";
            } elsif ($s->{format} eq 'uuid' && $value !~ /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i) {
                push @v, "$where: '$value' is not a uuid";
            }
        }
        if ($have eq 'string' && defined $s->{maxLength} && length($value) > $s->{maxLength}) {
            push @v, "$where: longer than $s->{maxLength} characters";
        }
    }
    if ($have eq 'array') {
        my $items;
        for my $s ($schema, map { $self->_resolve($doc, $_) } @{ $schema->{allOf} || [] }) { $items //= $s->{items} }
        if ($items) {
            for my $i (0 .. $#$value) {
                push @v, $self->_check($doc, $value->[$i], $items, "${where}[$i]", 0);
            }
        }
    }
    if ($have eq 'object') {
        my %seen_req;
        for my $r (grep { !$seen_req{$_}++ } @{ $merged->{required} }) {
            push @v, "$where.$r: required property missing" unless exists $value->{$r};
        }
        my $closed = ($merged->{additional} // '') eq 'closed'
            || ($strict && !defined $merged->{additional} && $merged->{has_props});
        for my $k (sort keys %$value) {
            if (my $ps = $merged->{properties}{$k}) {
                push @v, $self->_check($doc, $value->{$k}, $ps, "$where.$k", 0);
            } elsif ($closed) {
                push @v, "$where.$k: property is not documented";
            }
        }
    }
    return @v;
}

1;
