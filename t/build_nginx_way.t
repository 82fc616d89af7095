#!/usr/bin/perl

# The module also builds the NGINX way: ./configure --with-compat --add-dynamic-module=ngx_gist_module
# (with the package's own configure flags, as Debian's nginx-dev builds modules), then
# "make modules". The .so it makes loads into the packaged nginx and passes nginx -t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;

my $src = '/usr/share/nginx/src';
plan skip_all => "$src/conf_flags missing (nginx-dev)" unless -f "$src/conf_flags";

my $t = GistTest->new(need_module => 0);
my $root = "$FindBin::Bin/..";
my $objs = $t->subdir('objs');
my $log = "$objs/build.log";

my $configure = system('bash', '-c', qq{cd $src && . ./conf_flags && ./configure "\${NGX_CONF_FLAGS[@]}" }
    . qq{--with-cc-opt=-fPIC --add-dynamic-module=$root/ngx_gist_module --builddir=$objs >$log 2>&1});
is($configure, 0, './configure --add-dynamic-module=ngx_gist_module succeeds') or diag(`tail -20 $log`);

my $make = system('bash', '-c', "make -f $objs/Makefile -C $src modules >>$log 2>&1");
is($make, 0, 'make modules succeeds (NGINX compiles the glue with -Werror, CMake builds lib/)')
    or diag(`tail -30 $log`);

my $so = "$objs/ngx_http_gist_module.so";
ok(-f $so, 'the build made ngx_http_gist_module.so');

$t->{module} = $so;
my $ng = $t->nginx(vars => { REDISPORT => 6390, STUB => 'http://127.0.0.1:9' });
$ng->set_conf(GistTest::standard_conf());
my ($rc, $out) = $ng->check_conf;
is($rc, 0, 'nginx -t loads the NGINX-built module with the gist_* directives') or diag($out);

done_testing;
