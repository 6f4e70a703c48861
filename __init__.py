"""Kizuna: a GraphQL platform for carer support across a prefecture's municipalities."""
