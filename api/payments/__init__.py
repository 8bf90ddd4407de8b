"""Top-ups and cash-outs: off-chain orders in the API's database, the payment provider's signed
webhooks, and the TREASURY key that mints and burns CityCredit exactly once per receipt."""
