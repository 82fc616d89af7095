// Structural policy rules over every .tf and .pkr.hcl in terraform/ and packer/, parsed with
// @cdktf/hcl2json. They stand in for tflint/tfsec/checkov (not installable offline) and check the
// promises docs/deploy.md makes. Run: node --test terraform/tests/policy.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TF_DIR = path.join(ROOT, 'terraform');
const PACKER_DIR = path.join(ROOT, 'packer');

function walk(dir, suffix, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '.terraform' || e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, suffix, out);
    else if (e.name.endsWith(suffix)) out.push(p);
  }
  return out;
}

// Merge parsed files per directory (a Terraform module / Packer template is a directory).
function mergeInto(dst, src) {
  for (const [k, v] of Object.entries(src)) {
    if (Array.isArray(v)) dst[k] = (dst[k] ?? []).concat(v);
    else if (v && typeof v === 'object') mergeInto((dst[k] ??= {}), v);
    else dst[k] = v;
  }
  return dst;
}

const tfFiles = walk(TF_DIR, '.tf');
const pkrFiles = walk(PACKER_DIR, '.pkr.hcl');
const dirs = {}; // relative dir -> { json, text }
for (const f of [...tfFiles, ...pkrFiles]) {
  const src = fs.readFileSync(f, 'utf8');
  const json = await parse(path.basename(f), src); // throws on bad HCL
  const d = path.relative(ROOT, path.dirname(f));
  dirs[d] ??= { json: {}, text: '' };
  mergeInto(dirs[d].json, json);
  dirs[d].text += '\n' + src.split('\n').filter((l) => !/^\s*(#|\/\/)/.test(l)).join('\n');
}
const tfDirs = Object.keys(dirs).filter((d) => d.startsWith('terraform/'));
const mod = (name) => dirs[`terraform/modules/${name}`].json;
const env = (name) => dirs[`terraform/envs/${name}`].json;
const ENVS = ['staging', 'prod'];

// All resources of a type across terraform/: [{ dir, name, body }]
function resources(type) {
  const out = [];
  for (const d of tfDirs) {
    for (const [name, bodies] of Object.entries(dirs[d].json.resource?.[type] ?? {})) {
      for (const body of bodies) out.push({ dir: d, name, body });
    }
  }
  return out;
}
function varDefault(dir, name) {
  const v = dirs[dir].json.variable?.[name]?.[0];
  assert.ok(v, `${dir}: variable ${name} not declared`);
  return v.default;
}
// Literal value, or the default of the variable it names (within the same module).
function resolve(dir, value) {
  const m = typeof value === 'string' && value.match(/^\$\{var\.([\w-]+)\}$/);
  return m ? varDefault(dir, m[1]) : value;
}
const first = (x) => (Array.isArray(x) ? x[0] : x);

test('every .tf and .pkr.hcl parses', () => {
  assert.ok(tfFiles.length >= 30, `only ${tfFiles.length} .tf files found`);
  assert.ok(pkrFiles.length >= 3, `only ${pkrFiles.length} .pkr.hcl files found`);
});

test('every var.X used is declared in its module', () => {
  for (const d of tfDirs) {
    const declared = new Set(Object.keys(dirs[d].json.variable ?? {}));
    const used = new Set([...dirs[d].text.matchAll(/\bvar\.([A-Za-z_][\w-]*)/g)].map((m) => m[1]));
    for (const u of used) assert.ok(declared.has(u), `${d}: var.${u} is not declared`);
  }
});

test('Terraform and providers are pinned; no registry modules', () => {
  for (const d of tfDirs) {
    const j = dirs[d].json;
    const usesAws = /resource "aws_|data "aws_/.test(dirs[d].text);
    if (!usesAws && !d.includes('envs/')) continue;
    const tf = (j.terraform ?? []).find((t) => t.required_version);
    assert.ok(tf?.required_version, `${d}: required_version`);
    const aws = first(tf.required_providers)?.aws;
    assert.ok(aws?.source === 'hashicorp/aws' && aws?.version, `${d}: aws provider pinned`);
  }
  for (const d of tfDirs) {
    for (const [name, calls] of Object.entries(dirs[d].json.module ?? {})) {
      assert.match(calls[0].source, /^\.\.?\//, `${d}: module ${name} must be a local module`);
    }
  }
});

test('launch template: IMDSv2 required, hop limit 1, no key pair, no public IP, encrypted root', () => {
  const lts = resources('aws_launch_template');
  assert.ok(lts.length > 0);
  for (const { dir, name, body } of lts) {
    const md = first(body.metadata_options);
    assert.equal(md?.http_tokens, 'required', `${name}: http_tokens`);
    assert.equal(md?.http_put_response_hop_limit, 1, `${name}: hop limit`);
    assert.equal(body.key_name, undefined, `${name}: no key_name (Session Manager instead of SSH)`);
    const ni = first(body.network_interfaces);
    assert.equal(ni?.associate_public_ip_address, false, `${name}: no public IP`);
    for (const bd of body.block_device_mappings ?? []) {
      assert.equal(first(bd.ebs)?.encrypted, true, `${name}: encrypted EBS`);
    }
    assert.match(body.image_id, /^\$\{var\.ami_id\}$/, `${name}: AMI from var.ami_id only`);
    assert.equal(body.update_default_version, true);
    void dir;
  }
});

test('no public IPs on nodes or Redis; no stand-alone instances; no AMI lookups in Terraform', () => {
  assert.equal(resources('aws_instance').length, 0);
  for (const { name, body } of resources('aws_subnet')) {
    assert.equal(body.map_public_ip_on_launch, false, `subnet ${name}: map_public_ip_on_launch`);
  }
  for (const d of tfDirs) {
    assert.doesNotMatch(dirs[d].text, /associate_public_ip_address\s*=\s*true/, d);
    assert.equal(dirs[d].json.data?.aws_ami, undefined, `${d}: data "aws_ami" would pick an untested AMI`);
  }
});

test('ASG: latest_version (never $Latest), ELB health checks with grace, rolling refresh with rollback', () => {
  const asgs = resources('aws_autoscaling_group');
  assert.ok(asgs.length > 0);
  for (const d of tfDirs) assert.doesNotMatch(dirs[d].text, /\$Latest|\$Default/, `${d}: $Latest/$Default`);
  for (const { dir, name, body } of asgs) {
    const lt = first(body.launch_template);
    assert.match(lt.version, /^\$\{aws_launch_template\.[\w-]+\.latest_version\}$/, `${name}: version`);
    assert.equal(body.health_check_type, 'ELB', `${name}: health_check_type`);
    assert.ok(resolve(dir, body.health_check_grace_period) >= 60, `${name}: grace period`);
    assert.ok(body.target_group_arns, `${name}: attached to the target group`);
    assert.ok(resolve(dir, body.min_size) >= 2, `${name}: default min_size >= 2`);
    const ir = first(body.instance_refresh);
    assert.equal(ir?.strategy, 'Rolling');
    const pref = first(ir.preferences);
    assert.equal(pref.auto_rollback, true, `${name}: auto_rollback`);
    assert.ok(resolve(dir, pref.min_healthy_percentage) >= 90, `${name}: min_healthy_percentage`);
    assert.ok(resolve(dir, pref.max_healthy_percentage) > 100, `${name}: launch before terminate`);
    const alarms = first(pref.alarm_specification)?.alarms ?? [];
    assert.ok(alarms.some((a) => /alb_5xx/.test(a)), `${name}: rollback on ALB 5xx alarm`);
    assert.ok(first(body.instance_maintenance_policy), `${name}: instance_maintenance_policy`);
    assert.ok(first(body.lifecycle)?.ignore_changes?.some((x) => /desired_capacity/.test(x)), `${name}: ignore desired`);
    assert.match(body.vpc_zone_identifier, /private_subnet_ids/, `${name}: private subnets only`);
  }
  const policies = resources('aws_autoscaling_policy');
  assert.ok(policies.some((p) => p.body.policy_type === 'TargetTrackingScaling'), 'target tracking scaling');
});

test('security groups chain ALB -> nodes -> Redis; only the ALB is open to the internet; no SSH', () => {
  for (const { name, body } of resources('aws_security_group')) {
    assert.equal(body.ingress, undefined, `${name}: use aws_vpc_security_group_ingress_rule, not inline rules`);
    assert.equal(body.egress, undefined, `${name}: use aws_vpc_security_group_egress_rule, not inline rules`);
  }
  for (const { dir, name, body } of resources('aws_vpc_security_group_ingress_rule')) {
    const world = body.cidr_ipv4 === '0.0.0.0/0' || body.cidr_ipv6 === '::/0' ||
      /0\.0\.0\.0\/0|::\/0/.test(JSON.stringify(body));
    if (world) assert.equal(dir, 'terraform/modules/alb', `${dir} ${name}: open to the internet`);
    assert.ok(![22, '22'].includes(body.from_port), `${name}: SSH`);
  }
  const node = resources('aws_vpc_security_group_ingress_rule').filter((r) => r.dir.endsWith('app_asg'));
  assert.ok(node.length > 0 && node.every((r) => r.body.referenced_security_group_id === '${var.alb_security_group_id}'),
    'node ingress only from the ALB security group');
  const redis = resources('aws_vpc_security_group_ingress_rule').filter((r) => r.dir.endsWith('redis'));
  assert.ok(redis.length > 0 && redis.every((r) => r.body.referenced_security_group_id && !r.body.cidr_ipv4),
    'Redis ingress only from referenced security groups');
  const albEgress = resources('aws_vpc_security_group_egress_rule')
    .filter((r) => r.body.security_group_id === '${var.alb_security_group_id}');
  assert.ok(albEgress.length > 0 && albEgress.every((r) => r.body.referenced_security_group_id),
    'ALB egress only to the node security group');
  // The ALB module opens one egress rule itself: HTTPS to the identity provider, only with sign-in on.
  for (const { name, body } of resources('aws_vpc_security_group_egress_rule').filter((r) => r.dir.endsWith('alb'))) {
    assert.equal(name, 'alb_to_idp', `ALB module must not open egress itself: ${JSON.stringify(body)}`);
    assert.equal(body.count, '${local.auth_on ? 1 : 0}', 'IdP egress only with sign-in on');
    assert.deepEqual([body.ip_protocol, body.from_port, body.to_port], ['tcp', 443, 443], 'IdP egress: HTTPS only');
  }
});

test('IAM: no "*" or service-wide actions, no "*" resources in Allow; wildcard principals only in Deny', () => {
  // In a KMS key policy the resource "*" means the key itself (checked by the state key test).
  const keyPolicies = new Set(resources('aws_kms_key').map((k) => `${k.dir} ${String(k.body.policy)
    .replace(/^\$\{data\.aws_iam_policy_document\.([\w-]+)\.json\}$/, '$1')}`));
  for (const d of tfDirs) {
    for (const [name, docs] of Object.entries(dirs[d].json.data?.aws_iam_policy_document ?? {})) {
      for (const st of docs[0].statement ?? []) {
        const effect = st.effect ?? 'Allow';
        const principals = (st.principals ?? []).flatMap((p) => p.identifiers);
        if (effect === 'Allow') {
          for (const a of st.actions ?? []) assert.ok(a !== '*' && !a.endsWith(':*'), `${d} ${name}: action ${a}`);
          if (!keyPolicies.has(`${d} ${name}`)) {
            for (const r of st.resources ?? []) assert.notEqual(r, '*', `${d} ${name}: resource *`);
          }
          assert.ok(!principals.includes('*'), `${d} ${name}: Allow to principal *`);
        }
        assert.equal(st.not_actions, undefined, `${d} ${name}: not_actions`);
      }
    }
    assert.doesNotMatch(dirs[d].text, /AdministratorAccess|PowerUserAccess|FullAccess/, `${d}: broad managed policy`);
    assert.doesNotMatch(dirs[d].text, /Action\s*=\s*"\*"|"ssm:\*"|"kms:\*"/, `${d}: wildcard action`);
  }
  const inline = resources('aws_iam_role_policy');
  for (const { dir, name, body } of inline) {
    assert.match(body.policy, /^\$\{(data\.aws_iam_policy_document\.[\w-]+\.json|var\.instance_policy_json)\}$/,
      `${dir} ${name}: policies come from policy documents or app_config (tested there)`);
  }
});

test('ALB: HTTP only redirects to HTTPS, TLS 1.3 policy, invalid headers dropped, logs, protection', () => {
  const dir = 'terraform/modules/alb';
  const lb = resources('aws_lb')[0].body;
  assert.equal(lb.drop_invalid_header_fields, true);
  assert.equal(resolve(dir, lb.enable_deletion_protection), true, 'deletion protection by default');
  assert.equal(first(lb.access_logs).enabled, true, 'access logs');
  assert.equal(lb.internal, false);
  const listeners = resources('aws_lb_listener');
  const http = listeners.find((l) => l.body.port === 80)?.body;
  const https = listeners.find((l) => l.body.port === 443)?.body;
  assert.equal(http.protocol, 'HTTP');
  const act = first(http.default_action);
  assert.equal(act.type, 'redirect', 'port 80 only redirects');
  assert.deepEqual(
    { protocol: first(act.redirect).protocol, status: first(act.redirect).status_code },
    { protocol: 'HTTPS', status: 'HTTP_301' });
  assert.equal(https.protocol, 'HTTPS');
  assert.match(resolve(dir, https.ssl_policy), /^ELBSecurityPolicy-TLS13-/);
  assert.match(https.certificate_arn, /aws_acm_certificate_validation/, 'DNS-validated certificate');
  assert.equal(listeners.length, 2, 'exactly the two listeners');
});

test('target group health check path and port match the production nginx config', () => {
  const dir = 'terraform/modules/alb';
  const tg = resources('aws_lb_target_group')[0].body;
  const hc = first(tg.health_check);
  const hcPath = resolve(dir, hc.path);
  assert.equal(hcPath, '/health');
  const conf = fs.readFileSync(path.join(ROOT, 'conf/nginx.prod.conf'), 'utf8');
  assert.match(conf, new RegExp(`location = ${hcPath} \\{[^}]*gist_health;`), 'nginx serves gist_health there');
  const port = resolve(dir, tg.port);
  assert.match(conf, new RegExp(`listen ${port}\\b`), `nginx listens on the target group port ${port}`);
  assert.equal(varDefault('terraform/modules/app_asg', 'app_port'), port, 'node SG opens the same port');
  assert.ok(hc.matcher.split(',').includes('200'));
});

test('encryption everywhere: EBS, AMI, ElastiCache at rest + in transit, S3, KMS rotation', () => {
  for (const { name, body } of resources('aws_elasticache_replication_group')) {
    assert.equal(body.at_rest_encryption_enabled, true, name);
    assert.equal(body.transit_encryption_enabled, true, name);
    assert.equal(body.transit_encryption_mode, 'required', name);
    assert.match(body.auth_token, /^\$\{random_password\.[\w-]+\.result\}$/, `${name}: auth_token generated`);
    assert.equal(body.multi_az_enabled, true, name);
    assert.equal(body.automatic_failover_enabled, true, name);
    assert.equal(first(body.lifecycle)?.prevent_destroy, true, name);
  }
  const sse = resources('aws_s3_bucket_server_side_encryption_configuration').map((r) => r.body.bucket);
  for (const { name } of resources('aws_s3_bucket')) {
    assert.ok(sse.some((b) => b.includes(`aws_s3_bucket.${name}.`)), `bucket ${name}: encryption`);
  }
  const pab = resources('aws_s3_bucket_public_access_block');
  assert.equal(pab.length, resources('aws_s3_bucket').length, 'every bucket blocks public access');
  for (const { name, body } of resources('aws_kms_key')) assert.equal(body.enable_key_rotation, true, name);
});

test('SSM parameters are SecureString with the app key; values set out of band are ignored', () => {
  const params = resources('aws_ssm_parameter');
  assert.ok(params.length >= 2);
  for (const { name, body } of params) {
    assert.equal(body.type, 'SecureString', name);
    assert.ok(body.key_id, `${name}: customer managed KMS key`);
    if (typeof body.value === 'string' && !body.value.startsWith('${')) {
      const ignored = (first(body.lifecycle)?.ignore_changes ?? []).map((x) => x.replace(/^\$\{(.*)\}$/, '$1'));
      assert.ok(ignored.includes('value'), `${name}: literal placeholder must ignore_changes`);
    }
  }
});

test('outputs never expose secrets', () => {
  for (const d of tfDirs) {
    for (const [name, outs] of Object.entries(dirs[d].json.output ?? {})) {
      const v = JSON.stringify(outs[0].value);
      assert.doesNotMatch(v,
        /random_password|replication_group\.[\w-]+\.auth_token|aws_ssm_parameter\.[\w-]+\.(value|insecure_value)\b/,
        `${d}: output ${name}`);
    }
  }
});

test('state: S3 backend with use_lockfile and encryption, no DynamoDB; default_tags', () => {
  for (const e of ENVS) {
    const s3 = first(first(env(e).terraform.filter((t) => t.backend))?.backend.s3);
    assert.ok(s3, `${e}: s3 backend`);
    assert.equal(s3.use_lockfile, true, `${e}: use_lockfile`);
    assert.equal(s3.encrypt, true, `${e}: encrypt`);
    assert.equal(s3.dynamodb_table, undefined, `${e}: DynamoDB locking is deprecated`);
    assert.match(s3.key, new RegExp(`^${e}/`), `${e}: own state key`);
    assert.ok(first(env(e).provider.aws).default_tags, `${e}: default_tags`);
  }
});

test('environments: >= 2 AZs everywhere; prod: per-AZ NAT, >= 2 nodes and Redis nodes, protection on', () => {
  for (const e of ENVS) {
    const m = env(e).module;
    assert.ok(m.network[0].az_count >= 2, `${e}: az_count`);
    assert.ok(m.app[0].min_size >= 2, `${e}: min_size`);
    assert.ok((m.redis[0].num_cache_clusters ?? 2) >= 2, `${e}: Redis replicas`);
    assert.match(m.app[0].ami_id, /^\$\{var\.ami_id\}$/, `${e}: AMI from the Packer manifest via -var`);
  }
  const p = env('prod').module;
  assert.equal(p.network[0].single_nat_gateway, false, 'prod: NAT gateway per AZ');
  assert.equal(p.alb[0].deletion_protection, true, 'prod: ALB deletion protection');
  assert.equal(p.redis[0].apply_immediately, false, 'prod: Redis changes in the maintenance window');
  assert.ok(p.app[0].refresh_min_healthy_percentage >= 90);
});

test('Packer: official Debian 12, IMDSv2 (instance and AMI), encrypted, no public IP, manifest', () => {
  const j = dirs.packer.json;
  const src = j.source['amazon-ebs'].node[0];
  const filt = first(src.source_ami_filter);
  assert.deepEqual(filt.owners.map((o) => resolve('packer', o)), ['136693071363']);
  assert.match(filt.filters.name, /^debian-12-amd64-/);
  assert.equal(first(src.metadata_options).http_tokens, 'required');
  assert.equal(src.imds_support, 'v2.0');
  assert.equal(src.encrypt_boot, true);
  assert.equal(src.associate_public_ip_address, false);
  assert.equal(src.ssh_interface, 'session_manager');
  assert.ok(src.tags.GitSha && src.tags.BaseAMI, 'AMI tags');
  const b = j.build[0];
  assert.ok(b['post-processor'].manifest, 'manifest post-processor');
  const provs = [].concat(b.provisioner); // hcl2json: { shell: [...], file: [...] }
  const shells = provs.flatMap((p) => p.shell ?? []);
  assert.ok(shells.some((s) => /scripts\/provision\.sh/.test(s.script)), 'provision.sh');
  // The boot test stages the same files as Packer: every packer/files/* and both conf files.
  const files = provs.flatMap((p) => p.file ?? []).flatMap((f) => f.sources);
  for (const f of fs.readdirSync(path.join(PACKER_DIR, 'files'))) {
    assert.ok(files.some((s) => s.endsWith(`/files/${f}`)), `packer uploads files/${f}`);
  }
  for (const c of ['nginx.prod.conf', 'redis-tunnel.conf']) {
    assert.ok(files.some((s) => s.endsWith(`/conf/${c}`)), `packer uploads conf/${c}`);
  }
});

// --- Effective permissions ----------------------------------------------------------------------
// A small IAM evaluator for the questions the docs answer ("can a node read another environment's
// parameters?", "can a non-admin read an old state version?"). It knows Allow/Deny, Action/NotAction,
// Resource/NotResource, principals and the condition operators used in this repository; anything
// else throws rather than being guessed. Values are the HCL's own, with ${...} references resolved
// from a fixture scope.
function interp(value, scope) {
  if (Array.isArray(value)) return value.flatMap((v) => [].concat(interp(v, scope)));
  if (typeof value !== 'string') return value;
  const whole = value.match(/^\$\{([^${}]+)\}$/);
  if (whole && Array.isArray(scope[whole[1]])) return scope[whole[1]];
  return value.replace(/\$\{([^${}]+)\}/g, (_, ref) => {
    if (!(ref in scope)) throw new Error(`unresolved \${${ref}} in ${value}`);
    return interp(scope[ref], scope);
  });
}
const glob = (pattern, s, ci = false) => new RegExp(
  '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
  ci ? 'i' : '').test(s);
const list = (x) => (x === undefined ? undefined : [].concat(x));

// From data "aws_iam_policy_document" (HCL) statements.
function fromDocument(doc, scope) {
  return (doc.statement ?? []).map((st) => ({
    sid: st.sid,
    effect: st.effect ?? 'Allow',
    actions: list(st.actions), notActions: list(st.not_actions),
    resources: st.resources && interp(st.resources, scope),
    notResources: st.not_resources && interp(st.not_resources, scope),
    principals: (st.principals ?? []).flatMap((p) => interp(p.identifiers, scope)),
    conditions: (st.condition ?? []).map((c) => ({ test: c.test, key: c.variable, values: interp(list(c.values), scope) })),
  }));
}
// From a policy written as an HCL object in AWS's JSON shape (jsonencode).
function fromJsonShape(policy, scope) {
  return policy.Statement.map((st) => ({
    sid: st.Sid,
    effect: st.Effect,
    actions: list(st.Action), notActions: list(st.NotAction),
    resources: st.Resource && interp(list(st.Resource), scope),
    notResources: st.NotResource && interp(list(st.NotResource), scope),
    principals: [],
    conditions: Object.entries(st.Condition ?? {}).flatMap(([test, kv]) =>
      Object.entries(kv).map(([key, values]) => ({ test, key, values: interp(list(values), scope) }))),
  }));
}
function conditionHolds({ test, key, values }, ctx) {
  const v = ctx[key];
  switch (test) {
    case 'Bool': return v !== undefined && values.includes(String(v));
    case 'StringEquals': return v !== undefined && values.includes(v);
    case 'ArnLike': return v !== undefined && values.some((p) => glob(p, v));
    case 'ArnNotLike': return v === undefined || !values.some((p) => glob(p, v));
    default: throw new Error(`condition operator ${test} not modelled`);
  }
}
function applies(st, req) {
  const act = st.actions ? st.actions.some((a) => glob(a, req.action, true))
    : !st.notActions.some((a) => glob(a, req.action, true));
  const res = st.resources ? st.resources.some((r) => glob(r, req.resource))
    : !st.notResources.some((r) => glob(r, req.resource));
  const who = st.principals.length === 0 || st.principals.some((p) => p === '*' || p === req.principal);
  return act && res && who && st.conditions.every((c) => conditionHolds(c, req.context ?? {}));
}
function decide(statements, req) {
  if (statements.some((s) => s.effect === 'Deny' && applies(s, req))) return 'deny';
  return statements.some((s) => s.effect === 'Allow' && applies(s, req)) ? 'allow' : 'implicit-deny';
}

// The statements of the AWS managed policies attached anywhere (as published by AWS). An attachment
// of a managed policy not listed here fails the test: add its document first.
const MANAGED = {
  AmazonSSMManagedInstanceCore: [
    { effect: 'Allow', resources: ['*'], principals: [], conditions: [], actions: [
      'ssm:DescribeAssociation', 'ssm:GetDeployablePatchSnapshotForInstance', 'ssm:GetDocument',
      'ssm:DescribeDocument', 'ssm:GetManifest', 'ssm:GetParameter', 'ssm:GetParameters',
      'ssm:ListAssociations', 'ssm:ListInstanceAssociations', 'ssm:PutInventory', 'ssm:PutComplianceItems',
      'ssm:PutConfigurePackageResult', 'ssm:UpdateAssociationStatus', 'ssm:UpdateInstanceAssociationStatus',
      'ssm:UpdateInstanceInformation'] },
    { effect: 'Allow', resources: ['*'], principals: [], conditions: [], actions: [
      'ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel',
      'ssmmessages:OpenDataChannel'] },
    { effect: 'Allow', resources: ['*'], principals: [], conditions: [], actions: [
      'ec2messages:AcknowledgeMessage', 'ec2messages:DeleteMessage', 'ec2messages:FailMessage',
      'ec2messages:GetEndpoint', 'ec2messages:GetMessages', 'ec2messages:SendReply'] },
  ],
};

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const hclScope = (dir, vars) => {
  const scope = { 'data.aws_partition.this.partition': 'aws' };
  for (const [k, v] of Object.entries(vars)) scope[`var.${k}`] = v;
  for (const locals of dirs[dir].json.locals ?? []) {
    for (const [k, v] of Object.entries(locals)) scope[`local.${k}`] = v;
  }
  return scope;
};

// Everything a role gets: inline policies (documents in the module, or app_config's JSON) and
// attached managed policies.
function roleStatements(dir, roleName, scope, instancePolicyStatements = []) {
  const out = [];
  const roleRef = (v) => new RegExp(`^\\$\\{aws_iam_role\\.${roleName}\\.(name|id)\\}$`).test(v);
  for (const { dir: d, body } of resources('aws_iam_role_policy_attachment')) {
    if (d !== dir || !roleRef(body.role)) continue;
    const m = interp(body.policy_arn, scope).match(/^arn:aws:iam::aws:policy\/(.+)$/);
    assert.ok(m && MANAGED[m[1]], `${dir}: managed policy ${body.policy_arn} is not modelled in MANAGED`);
    out.push(...MANAGED[m[1]]);
  }
  for (const { dir: d, name, body } of resources('aws_iam_role_policy')) {
    if (d !== dir || !roleRef(body.role)) continue;
    const doc = body.policy.match(/^\$\{data\.aws_iam_policy_document\.([\w-]+)\.json\}$/);
    if (doc) out.push(...fromDocument(dirs[dir].json.data.aws_iam_policy_document[doc[1]][0], scope));
    else if (body.policy === '${var.instance_policy_json}') out.push(...instancePolicyStatements);
    else assert.fail(`${dir} ${name}: policy ${body.policy} not understood`);
  }
  return out;
}

test('node role: SSM parameters of its own app and environment only; Session Manager still works', () => {
  const cfg = 'terraform/modules/app_config';
  const scope = hclScope(cfg, {
    app: 'gist', environment: 'prod', partition: 'aws', region: REGION, account_id: ACCOUNT,
    kms_key_arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/0b1c2d3e-1111-2222-3333-444455556666`,
  });
  const inline = fromJsonShape(dirs[cfg].json.locals.find((l) => l.instance_policy).instance_policy, scope);
  const node = roleStatements('terraform/modules/app_asg', 'node', scope, inline);
  const param = (p, region = REGION, acct = ACCOUNT) => `arn:aws:ssm:${region}:${acct}:parameter${p}`;
  for (const action of ['ssm:GetParameter', 'ssm:GetParameters']) {
    assert.equal(decide(node, { action, resource: param('/gist/prod/github_token') }), 'allow', `${action} own`);
  }
  for (const action of ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:GetParameterHistory']) {
    for (const r of [param('/gist/staging/github_token'), param('/gist/prod-old/github_token'), param('/other-app/db_password'),
      param('/aws/reference/secretsmanager/prod-db'), param('/gist/prod/github_token', 'us-east-1'), param('/gist'),
      `arn:aws:ssm:${REGION}:${ACCOUNT}:*`]) {
      assert.notEqual(decide(node, { action, resource: r }), 'allow', `node role may ${action} ${r}`);
    }
  }
  const instance = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
  assert.equal(decide(node, { action: 'ssm:UpdateInstanceInformation', resource: instance }), 'allow', 'Session Manager registration');
  for (const a of ['ssmmessages:CreateControlChannel', 'ssmmessages:OpenDataChannel', 'ec2messages:GetMessages']) {
    assert.equal(decide(node, { action: a, resource: '*' }), 'allow', `Session Manager / Run Command: ${a}`);
  }
  assert.equal(decide(node, { action: 'kms:Decrypt', resource: scope['var.kms_key_arn'],
    context: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com` } }), 'allow', 'decrypt via SSM');
  assert.notEqual(decide(node, { action: 'kms:Decrypt', resource: scope['var.kms_key_arn'] }), 'allow', 'decrypt directly');
});

test('Packer build role (bootstrap): Session Manager, no SSM parameters at all', () => {
  const dir = 'terraform/bootstrap';
  const scope = hclScope(dir, { region: REGION, account_id: ACCOUNT });
  const role = roleStatements(dir, 'packer_build', scope);
  for (const p of ['/gist/prod/github_token', '/gist/staging/redis_auth_token', '/anything']) {
    for (const action of ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath']) {
      const r = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${p}`;
      assert.notEqual(decide(role, { action, resource: r }), 'allow', `packer build role may ${action} ${p}`);
    }
  }
  assert.equal(decide(role, { action: 'ssmmessages:OpenDataChannel', resource: '*' }), 'allow', 'Session Manager');
});

// The state holds the Redis AUTH token: only the state admins may read or change it, its old
// versions, or the rules that protect it; nobody without TLS.
const STATE_ADMIN = `arn:aws:iam::${ACCOUNT}:role/ci-deployer`;
const stateScope = () => ({
  ...hclScope('terraform/bootstrap', { region: REGION, account_id: ACCOUNT, state_admin_role_arns: [STATE_ADMIN] }),
  'aws_s3_bucket.state.arn': `arn:aws:s3:::gist-tfstate-${ACCOUNT}`,
  'aws_s3_bucket.state.id': `gist-tfstate-${ACCOUNT}`,
  'data.aws_caller_identity.this.account_id': ACCOUNT,
});
function policyDocOf(dir, ref) {
  const m = ref?.match(/^\$\{data\.aws_iam_policy_document\.([\w-]+)\.json\}$/);
  assert.ok(m, `${dir}: policy ${ref} must come from a policy document`);
  return dirs[dir].json.data.aws_iam_policy_document[m[1]][0];
}

test('state bucket: only state admins touch objects, versions or the bucket policy; TLS only', () => {
  const dir = 'terraform/bootstrap';
  const scope = stateScope();
  const pol = resources('aws_s3_bucket_policy').find((r) => r.dir === dir);
  const st = fromDocument(policyDocOf(dir, pol.body.policy), scope);
  const bucket = scope['aws_s3_bucket.state.arn'];
  const object = `${bucket}/prod/gist.tfstate`;
  const objectActions = ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAcl', 's3:GetObjectAttributes',
    's3:GetObjectVersionAttributes', 's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:GetObjectRetention',
    's3:PutObject', 's3:PutObjectAcl', 's3:PutObjectVersionAcl', 's3:PutObjectTagging', 's3:PutObjectRetention',
    's3:DeleteObject', 's3:DeleteObjectVersion', 's3:DeleteObjectTagging', 's3:RestoreObject'];
  const bucketActions = ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketVersioning',
    's3:PutEncryptionConfiguration', 's3:PutLifecycleConfiguration', 's3:PutBucketPublicAccessBlock',
    's3:PutBucketOwnershipControls', 's3:DeleteBucket'];
  const other = `arn:aws:iam::${ACCOUNT}:role/developer`;
  const ask = (principal, action, resource, tls = true) => decide(st, {
    principal, action, resource, context: { 'aws:SecureTransport': tls, 'aws:PrincipalArn': principal } });
  for (const a of objectActions) {
    assert.equal(ask(other, a, object), 'deny', `a non-admin (with s3:* in IAM) may ${a}`);
    assert.notEqual(ask(STATE_ADMIN, a, object), 'deny', `a state admin may not ${a}`);
  }
  for (const a of bucketActions) {
    assert.equal(ask(other, a, bucket), 'deny', `a non-admin (with s3:* in IAM) may ${a}`);
    assert.notEqual(ask(STATE_ADMIN, a, bucket), 'deny', `a state admin may not ${a}`);
  }
  for (const [a, r] of [['s3:ListBucket', bucket], ['s3:GetBucketPolicy', bucket], ['s3:PutBucketPolicy', bucket],
    ['s3:GetObject', object], ['s3:PutObject', object], ['s3:ListBucketVersions', bucket], ['s3:GetBucketAcl', bucket]]) {
    assert.equal(ask(STATE_ADMIN, a, r, false), 'deny', `${a} without TLS`);
  }
});

test('state KMS key: its policy lets the state admins only use and manage it (not the account root)', () => {
  const dir = 'terraform/bootstrap';
  const scope = stateScope();
  const key = resources('aws_kms_key').find((r) => r.dir === dir && r.name === 'state').body;
  assert.notEqual(key.bypass_policy_lockout_safety_check, true, 'no lockout bypass');
  const st = fromDocument(policyDocOf(dir, key.policy), scope);
  const k = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0b1c2d3e-1111-2222-3333-444455556666`;
  const ask = (principal, action) => decide(st, { principal, action, resource: k, context: { 'aws:PrincipalArn': principal } });
  for (const a of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:DescribeKey', 'kms:PutKeyPolicy',
    'kms:ScheduleKeyDeletion', 'kms:EnableKeyRotation']) {
    assert.equal(ask(STATE_ADMIN, a), 'allow', `state admin: ${a}`);
  }
  // The account root in a key policy delegates the key to IAM: any role with kms:Decrypt on * could
  // then read the state. Not here.
  for (const p of [`arn:aws:iam::${ACCOUNT}:root`, ACCOUNT, `arn:aws:iam::${ACCOUNT}:role/developer`, '*']) {
    for (const a of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:CreateGrant', 'kms:PutKeyPolicy']) {
      assert.notEqual(ask(p, a), 'allow', `${p} may ${a} with the state key`);
    }
  }
  for (const s of st) assert.deepEqual(s.resources, ['*'], 'a key policy\'s resource is the key itself: "*"');
});

// --- Sign-in at the load balancer (issue 11) -------------------------------------------------------
test('ALB sign-in: off by default, Cognito in prod; every forwarded request is authenticated first', () => {
  const dir = 'terraform/modules/alb';
  const j = dirs[dir].json;
  const auth = j.variable.auth[0];
  assert.deepEqual(auth.default, {}, 'auth defaults to {}');
  assert.match(auth.type, /mode\s*=\s*optional\(string,\s*"off"\)/, 'auth.mode defaults to "off"');
  assert.doesNotMatch(auth.type, /client_secret\s*=/, 'no client secret in a variable (it comes from SSM)');
  const locals = Object.assign({}, ...(j.locals ?? []));
  assert.equal(locals.auth_cognito, '${var.auth.mode == "cognito"}');
  assert.equal(locals.auth_oidc, '${var.auth.mode == "oidc"}');
  assert.equal(locals.auth_on, '${var.auth.mode != "off"}');
  // Environments: prod signs in with Cognito; staging leaves the default (off).
  assert.equal(env('prod').module.alb[0].auth?.mode, 'cognito', 'prod: auth.mode = "cognito"');
  assert.ok([undefined, 'off'].includes(env('staging').module.alb[0].auth?.mode), 'staging: off');

  // The HTTPS listener: the authenticate action(s) come before the forward, in the DEFAULT action, so
  // any path that no rule answers by itself (//user/x, /%75ser/x included) is authenticated.
  const https = resources('aws_lb_listener').find((l) => l.body.port === 443).body;
  const fwd = https.default_action;
  assert.equal(fwd.length, 1, 'one static default action');
  assert.equal(fwd[0].type, 'forward');
  assert.match(fwd[0].target_group_arn, /aws_lb_target_group\.app\.arn/);
  const dyn = https.dynamic?.default_action ?? [];
  const byType = Object.fromEntries(dyn.map((d) => [d.content[0].type, d]));
  const cog = byType['authenticate-cognito'];
  const oidc = byType['authenticate-oidc'];
  assert.ok(cog && oidc, 'authenticate-cognito and authenticate-oidc default actions');
  assert.equal(cog.for_each, '${local.auth_cognito ? [1] : []}');
  assert.equal(oidc.for_each, '${local.auth_oidc ? [1] : []}');
  for (const d of [cog, oidc]) {
    assert.ok(d.content[0].order < fwd[0].order, `${d.content[0].type} before forward`);
  }
  const ac = cog.content[0].authenticate_cognito[0];
  assert.equal(ac.user_pool_arn, '${aws_cognito_user_pool.console[0].arn}');
  assert.equal(ac.user_pool_client_id, '${aws_cognito_user_pool_client.alb[0].id}');
  assert.equal(ac.user_pool_domain, '${aws_cognito_user_pool_domain.console[0].domain}');
  const ao = oidc.content[0].authenticate_oidc[0];
  assert.match(ao.client_secret, /^\$\{data\.aws_ssm_parameter\.[\w-]+\[0\]\.value\}$/, 'OIDC client secret from SSM');
  for (const a of [ac, ao]) {
    assert.equal(a.on_unauthenticated_request, 'authenticate', 'unauthenticated requests are sent to sign in');
    assert.match(a.scope, /\bopenid\b/);
  }

  // Listener rules never forward: they only answer by themselves. So the default action (sign-in,
  // then forward) is the only way to the nodes.
  const rules = resources('aws_lb_listener_rule').filter((r) => r.dir === dir);
  const prios = rules.map((r) => r.body.priority);
  assert.equal(new Set(prios).size, prios.length, 'unique rule priorities');
  for (const { name, body } of rules) {
    assert.equal(body.listener_arn, '${aws_lb_listener.https.arn}', `${name}: on the HTTPS listener`);
    assert.equal(body.dynamic, undefined, `${name}: no dynamic actions`);
    for (const a of body.action) {
      assert.equal(a.type, 'fixed-response', `${name}: a listener rule must not forward (it would skip sign-in)`);
    }
  }
  const rule = (p) => rules.find((r) => first(first(r.body.condition).path_pattern)?.values
    .map((v) => resolve(dir, v)).includes(p))?.body;
  const health = rule('/health');
  assert.equal(first(first(health.action).fixed_response).status_code, '404', '/health hidden from the internet');
  const metrics = rule('/metrics');
  assert.ok(metrics, 'a rule for /metrics');
  assert.ok(first(first(metrics.condition).path_pattern).values.includes('/metrics/*'));
  assert.equal(first(first(metrics.action).fixed_response).status_code, '403', '/metrics refused at the ALB');
  // Target group checks go to the nodes directly, not through the listener: /health stays theirs.
  assert.equal(first(resources('aws_lb_target_group')[0].body.health_check).path, '${var.health_check_path}');
});

test('Cognito (auth.mode = "cognito"): admin-created users only, MFA, the ALB as a code-flow client', () => {
  const pool = resources('aws_cognito_user_pool').find((r) => r.dir === 'terraform/modules/alb')?.body;
  assert.ok(pool, 'the module creates the user pool');
  assert.equal(pool.count, '${local.auth_cognito ? 1 : 0}');
  assert.equal(first(pool.admin_create_user_config).allow_admin_create_user_only, true, 'no self sign-up');
  assert.equal(pool.mfa_configuration, 'ON');
  assert.equal(first(pool.software_token_mfa_configuration).enabled, true);
  assert.ok(first(pool.password_policy).minimum_length >= 12, 'password length');
  const client = resources('aws_cognito_user_pool_client')[0].body;
  assert.equal(client.count, '${local.auth_cognito ? 1 : 0}');
  assert.equal(client.generate_secret, true, 'the ALB needs a client secret');
  assert.deepEqual(client.allowed_oauth_flows, ['code']);
  assert.equal(client.allowed_oauth_flows_user_pool_client, true);
  assert.ok(client.allowed_oauth_scopes.includes('openid'));
  assert.deepEqual(client.supported_identity_providers, ['COGNITO']);
  assert.deepEqual(client.callback_urls, ['https://${var.domain_name}/oauth2/idpresponse'], 'the ALB callback only');
  assert.equal(client.prevent_user_existence_errors, 'ENABLED');
  assert.equal(resources('aws_cognito_user_pool_domain')[0].body.count, '${local.auth_cognito ? 1 : 0}');
});
