# The site's dashboard (/dashboard) in headless Chromium: a wrong key is
# refused in the API's words; a good one, typed in, signs in and is kept
# in sessionStorage only (no cookie, no localStorage, not in the URL,
# gone in another tab and after signing out); the page shows the quota
# and the history of requests and reports; it creates a key whose
# plaintext it shows once (and which works), revokes it (and it stops
# working); and a preference saved there changes what /api/v1/models/ids
# returns for the signed-in key.  No console error on the way, no
# request to another host, screenshots at desktop and phone width.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;
use FLR::Site qw(browser screenshot_dir page_is_clean wait_state);

my $shots = screenshot_dir();
my $s = FLR::Stack->new(workers => 2);
my $base = $s->base_url;
my ($code, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($code, 0, 'catalogue loaded') or diag($err);
my $me = $s->create_key_full(email => 'holder@example.com', rate_limit_max => 50,
    name => 'laptop');
my $key = $me->{key};
my %auth = (Authorization => "Bearer $key");

# Some history: two counted requests and a report.
my ($res) = $s->get_json('/api/v1/models/ids?topN=3', \%auth);
is($res->{status}, 200, 'a counted request');
($res) = $s->get_json('/api/v1/models/full?topN=1', \%auth);
is($res->{status}, 200, 'another');
($res) = $s->json_request('POST', '/api/v1/models/feedback',
    { modelId => 'openai/gpt-oss-20b:free', issue => 'unavailable',
      details => '<b>503</b> from upstream' }, \%auth);
is($res->{status}, 200, 'a report');

my $c = browser();
my $p = $c->page;

sub text { $p->js("(e => e ? e.textContent : null)(document.querySelector(" . JSON::PP->new->allow_nonref->encode($_[0]) . "))") }

$p->go("$base/dashboard");
is(wait_state($p), 'ready', 'the dashboard loads');
is($p->js('document.documentElement.dataset.session'), 'out', 'signed out at first');
ok(!$p->js('document.getElementById("signin").hidden'), 'the sign-in form is shown');
page_is_clean($p, $base, 'dashboard, signed out');

# --- A wrong key. --------------------------------------------------------------
$p->js('document.querySelector("#signin-form input[name=key]").focus()');
$p->type('fma_' . ('A' x 43));
$p->key('Enter');
is(wait_state($p), 'error', 'a wrong key: an error');
like(text('#status'), qr/key/i, '... in the API\'s words: ' . (text('#status') // ''));
is($p->js('sessionStorage.length'), 0, '... and nothing is kept');
$p->clear;

# --- Sign in by keyboard. -------------------------------------------------------
$p->js('document.querySelector("#signin-form input[name=key]").focus()');
$p->type($key);
$p->key('Enter');
ok($p->wait_for('document.documentElement.dataset.session === "in" && '
    . 'document.documentElement.dataset.state === "ready"'), 'signed in with the key');
is($p->js('sessionStorage.getItem("flr.key")'), $key, 'the key is in sessionStorage');
is($p->js('document.cookie'), '', 'no cookie');
is($p->js('localStorage.length'), 0, 'nothing in localStorage');
unlike($p->js('location.href'), qr/fma_/, 'not in the URL');
ok(!grep({ /fma_/ } $p->requests), 'no request URL carries it');
is($p->js('document.querySelector("#signin-form input[name=key]").value'), '',
    'the sign-in field is emptied');
like(text('#key-start'), qr/^\Q${\ substr($key, 0, 8)}\E/, 'the key shown by its start only');

# Quota and history.
my (undef, $usage) = $s->get_json('/api/v1/usage', \%auth);
like(text('#quota-text'), qr/\b$usage->{remaining} of 50\b/, 'the quota: remaining of limit');
like(text('#quota-reset'), qr/resets at/, 'the reset time');
ok($p->wait_for('document.querySelectorAll("#history tbody tr").length >= 3'),
    'the history lists the requests and the report');
is_deeply($p->js('[...document.querySelectorAll("#history tbody tr")].map(tr => tr.dataset.id)'),
    [ map { $_->{id} } @{ $usage->{history} } ], '... exactly as /api/v1/usage does');
like(text('#history tbody tr[data-type=report]'), qr/<b>503<\/b> from upstream/,
    '... with a report\'s details as text');
is($p->js('document.querySelectorAll("#history b").length'), 0, '... not as HTML');

# Keys.
is_deeply($p->js('[...document.querySelectorAll("#keys tbody tr")].map(tr => tr.dataset.keyId)'),
    [ $me->{id} ], 'the keys table lists the key');
page_is_clean($p, $base, 'dashboard, signed in');
$p->screenshot("$shots/dashboard-desktop.png", 1280, 900);

# --- Create a key: the plaintext once. -----------------------------------------
$p->js(q{(() => { const f = document.getElementById('key-form');
    f.elements.name.value = 'ci runner'; f.elements.expiresInDays.value = '30';
    f.querySelector('button[type=submit]').click(); })()});
my $new = $p->wait_for('(t => /^fma_/.test(t) && t)(document.getElementById("new-key-text").textContent)');
like($new // '', qr/^fma_[A-Za-z0-9_-]{43}$/, 'a new key, its plaintext shown');
ok($p->wait_for('document.querySelectorAll("#keys tbody tr").length === 2'),
    '... and listed');
my ($kres, $klist) = $s->get_json('/api/v1/keys', { Authorization => "Bearer $new" });
is($kres->{status}, 200, 'the new key works');
my ($ci) = grep { $_->{name} eq 'ci runner' } @{ $klist->{keys} // [] };
ok($ci && $ci->{expiresAt}, '... named and expiring as asked');
$p->screenshot("$shots/dashboard-new-key.png", 1280, 900);
$p->js('document.getElementById("new-key-done").click()');
is(text('#new-key-text'), '', 'Done forgets the plaintext');
ok($p->js('document.getElementById("new-key").hidden'), '... and hides it');

# --- Revoke it: two presses. ---------------------------------------------------
$p->js(qq{document.querySelector('#keys tr[data-key-id="$ci->{id}"] button.danger').click()});
like($p->js(qq{document.querySelector('#keys tr[data-key-id="$ci->{id}"] button.danger').textContent}),
    qr/for good/, 'revoke asks once more');
$p->js(qq{document.querySelector('#keys tr[data-key-id="$ci->{id}"] button.danger').click()});
ok($p->wait_for(qq{!document.querySelector('#keys tr[data-key-id="$ci->{id}"]')}),
    'revoked: gone from the table');
($kres) = $s->get_json('/api/v1/keys', { Authorization => "Bearer $new" });
is($kres->{status}, 401, 'the revoked key no longer works');

# --- Preferences change the listing. -------------------------------------------
my (undef, $before) = $s->get_json('/api/v1/models/ids', \%auth);
cmp_ok(scalar @{ $before->{ids} }, '>', 2, 'without preferences /ids lists more than two');
$p->js(q{(() => { const f = document.getElementById('prefs-form');
    f.elements.sort.value = 'newest'; f.elements.topN.value = '2';
    f.querySelector('button[type=submit]').click(); })()});
ok($p->wait_for('(s => s.classList.contains("done"))(document.getElementById("prefs-status"))'),
    'preferences saved') or diag(text('#prefs-status'));
my (undef, $after) = $s->get_json('/api/v1/models/ids', \%auth);
my (undef, $explicit) = $s->get_json('/api/v1/models/ids?sort=newest&topN=2', \%auth);
is(scalar @{ $after->{ids} }, 2, 'now /api/v1/models/ids lists two');
is_deeply($after->{ids}, $explicit->{ids}, '... the two newest');
my (undef, $prefs) = $s->get_json('/api/v1/preferences', \%auth);
is_deeply([ @$prefs{qw(sort topN useCases)} ], [ 'newest', 2, undef ],
    'the saved preferences are those of the form');

# Clearing a field clears it.
$p->js(q{(() => { const f = document.getElementById('prefs-form');
    f.elements.topN.value = ''; document.getElementById('prefs-status').className = '';
    f.querySelector('button[type=submit]').click(); })()});
ok($p->wait_for('(s => s.classList.contains("done"))(document.getElementById("prefs-status"))'),
    'saved again');
(undef, $prefs) = $s->get_json('/api/v1/preferences', \%auth);
is($prefs->{topN}, undef, 'an emptied field is cleared');
is($prefs->{sort}, 'newest', '... the others kept');

# --- The session: a reload keeps it, another tab does not. ----------------------
$p->go("$base/dashboard");
ok($p->wait_for('document.documentElement.dataset.session === "in"'),
    'a reload stays signed in (same tab)');
my $other = $c->page;
$other->go("$base/dashboard");
is(wait_state($other), 'ready', 'another tab loads');
is($other->js('document.documentElement.dataset.session'), 'out',
    '... signed out: the key is this tab\'s only');
$other->shut;

$p->screenshot("$shots/dashboard-phone.png", 390, 844, mobile => 1);
ok($p->js('document.documentElement.scrollWidth <= window.innerWidth + 1'),
    'dashboard at phone width: nothing wider than the screen');
$p->viewport(1280, 900);
page_is_clean($p, $base, 'dashboard after the changes');

$p->js('document.getElementById("signout").click()');
ok($p->wait_for('document.documentElement.dataset.session === "out"'), 'signed out');
is($p->js('sessionStorage.length'), 0, 'sessionStorage is empty again');

done_testing;
