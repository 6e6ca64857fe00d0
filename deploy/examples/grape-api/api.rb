# frozen_string_literal: true

# An example upstream behind mtls-sidecar: it trusts only the identity headers the sidecar sets
# and authorizes each route by that identity, so "any valid certificate" is never enough.
#
# Run it bound to loopback only, so nothing but the sidecar in the same pod can reach it:
#   puma -b tcp://127.0.0.1:8080 config.ru
# Bound to 0.0.0.0 on a shared network, anyone who reaches the port could forge these headers.

require 'grape'
require 'json'

class OrdersApi < Grape::API
  format :json
  default_format :json

  # An X.509-SVID carries exactly one URI SAN (a SPIFFE ID); anything else is not an identity
  # we recognise, so a comma-joined list or odd characters never match by accident.
  SPIFFE_ID = %r{\Aspiffe://[a-z0-9.\-_]+(/[A-Za-z0-9.\-_]+)*\z}

  # Route origin => who may call it. A route missing here is refused (fail closed).
  RULES = {
    '/whoami' => { any_identity: true },
    '/orders' => { uris: ['spiffe://example.org/ns/prod/sa/orders'] },
    '/reports' => { subjects: ['CN=auditor,O=Example Org'] }
  }.freeze

  helpers do
    # Identity as the sidecar stated it; Rack folds `X-Client-URI` (and `X_Client_URI`) into these keys.
    def caller_identity
      {
        uri: env['HTTP_X_CLIENT_URI'],
        subject: env['HTTP_X_CLIENT_SUBJECT'],
        cn: env['HTTP_X_CLIENT_CN'],
        serial: env['HTTP_X_CLIENT_SERIAL'],
        fingerprint_sha256: env['HTTP_X_CLIENT_FINGERPRINT_SHA256']
      }
    end

    # Every Rack env key the sidecar could have set, so a test can see exactly what reached the app.
    def client_env
      env.select { |key, _| key.start_with?('HTTP_X_CLIENT') }.sort.to_h
    end

    def allowed?(rule, identity)
      return true if rule[:any_identity]

      uri = identity[:uri].to_s
      return true if rule.fetch(:uris, []).include?(uri) && SPIFFE_ID.match?(uri)

      rule.fetch(:subjects, []).include?(identity[:subject].to_s)
    end

    def reply(extra = {})
      { identity: caller_identity, client_env: client_env }.merge(extra)
    end
  end

  before do
    identity = caller_identity
    # No fingerprint means the request did not come through the sidecar at all.
    error!({ error: 'unauthenticated' }, 401) if identity[:fingerprint_sha256].to_s.empty?

    rule = RULES[route.origin]
    # The refusal names nothing: a caller learns neither the rules nor what identity was seen.
    error!({ error: 'forbidden' }, 403) unless rule && allowed?(rule, identity)
  end

  get '/whoami' do
    reply
  end

  get '/orders' do
    reply(orders: [{ id: 1, item: 'coffee beans', quantity: 2 }])
  end

  get '/reports' do
    reply(reports: ['daily-sales'])
  end
end
