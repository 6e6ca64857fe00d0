# frozen_string_literal: true

# Rack entry point for the example upstream; bind it to loopback: puma -b tcp://127.0.0.1:8080 config.ru
require_relative 'api'

run OrdersApi
