-- session/set_request_role: Runs the rest of the transaction as PostgREST would: the role and the JWT claims, both local.
select set_config('role', %(role)s, true), set_config('request.jwt.claims', %(claims)s, true)
