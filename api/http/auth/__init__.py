"""Sign-In with Ethereum (EIP-4361) for the gateway: the verifier (siwe.py), the sessions and the
request dependencies (session.py: `current_account`, `optional_account`), the roles an account holds
on the chain at a stated block (roles.py), and the routes (routes.py). Reused by every room that
needs to know who is asking: the cases, the buyer's return flow, private evidence."""
