"""Knowledge about specific providers that sits beside the wire clients: OpenRouter's endpoint
listing and prices, upstream-provider checks. May import httpx; the scoring core never imports this.
"""
