"""Access control: API keys (``keys``), what a key may do (``policy``) and per-key request
rates (``ratelimit``). The API enforces them (``api.auth``); ``kvsigner apikey`` manages keys.
"""
