// Sign-in: an access key id and secret, checked by kilnd (POST /kiln/v1/session). A refusal is
// shown in the card as "Code: Message".

import {signIn} from '../api.js';
import {h} from '../dom.js';

export function render(root, {onSignedIn}) {
  const keyInput = h('input', {type: 'text', id: 'access-key', name: 'accessKeyId', autocomplete: 'username',
                               spellcheck: 'false', placeholder: 'AKIA\u2026', required: true});
  const secretInput = h('input', {type: 'password', id: 'secret-key', name: 'secretAccessKey',
                                  autocomplete: 'current-password', required: true});
  const error = h('div', {class: 'banner error hidden', role: 'alert', id: 'signin-error'});
  const submit = h('button', {type: 'submit', class: 'primary', id: 'signin-submit'}, 'Sign in');

  const form = h('form', {class: 'card', novalidate: true},
                 h('h1', {}, 'Sign in'),
                 h('p', {class: 'lead'}, 'Use an access key of your kiln account.'),
                 error,
                 h('div', {class: 'field'}, h('label', {for: 'access-key'}, 'Access key ID'), keyInput),
                 h('div', {class: 'field'}, h('label', {for: 'secret-key'}, 'Secret access key'),
                   secretInput),
                 submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.classList.add('hidden');
    const key = keyInput.value.trim();
    const secret = secretInput.value;
    if (!key || !secret) {
      showRefusal(error, 'MissingParameter', 'Enter both the access key ID and the secret access key.');
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in\u2026';
    try {
      await signIn(key, secret);
      onSignedIn();
    } catch (err) {
      showRefusal(error, err.code || 'Error', err.message);
      secretInput.value = '';
      secretInput.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  root.append(h('div', {class: 'signin'},
                h('div', {class: 'brand'}, h('img', {src: 'favicon.svg', alt: ''}), 'kiln',
                  h('span', {class: 'service'}, 'EC2 console')),
                form,
                h('p', {class: 'foot'},
                  'Keys are in the data directory\u2019s ', h('code', {}, 'credentials'),
                  ' file (', h('code', {}, 'kilnd account create'), ' makes more). ',
                  'The session lasts 12 hours.')));
  keyInput.focus();
}

function showRefusal(el, code, message) {
  el.textContent = '';
  el.append(h('div', {class: 'msg'}, h('span', {class: 'code'}, code + ': '), message));
  el.classList.remove('hidden');
}
