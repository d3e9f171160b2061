// The benchmark's peer: panva's oidc-provider (OpenID-certified), configured like Airlock's bench
// environment: a confidential client per signing algorithm issuing JWT access tokens through
// client_credentials, introspection on, and one user access token for userinfo. bench/run.sh copies
// this file next to its npm install in bench/peer/ (git-ignored) and runs it with NODE_ENV=production.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, secret, tokenFile] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

function jwk(type, options, alg, kid) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, kid, use: 'sig' };
}

const machine = (clientId) => ({
  client_id: clientId,
  client_secret: secret,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [
    machine('es'),
    machine('rs'),
    {
      client_id: 'web',
      client_secret: secret,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/cb'],
    },
  ],
  jwks: {
    keys: [
      jwk('ec', { namedCurve: 'P-256' }, 'ES256', 'peer-es256'),
      jwk('rsa', { modulusLength: 2048 }, 'RS256', 'peer-rs256'),
    ],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench:api',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        scope: 'api',
        audience: 'urn:bench:api',
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: client.clientId === 'rs' ? 'RS256' : 'ES256' } },
      }),
    },
  },
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
});

// One user access token (opaque, as the peer issues for userinfo) for the userinfo and
// introspection cases.
const client = await provider.Client.find('web');
const grant = new provider.Grant({ accountId: 'user-1', clientId: 'web' });
grant.addOIDCScope('openid');
const grantId = await grant.save();
const accessToken = new provider.AccessToken({
  accountId: 'user-1',
  client,
  grantId,
  scope: 'openid',
  gty: 'authorization_code',
});
writeFileSync(tokenFile, await accessToken.save());

provider.listen(Number(port), '127.0.0.1');
