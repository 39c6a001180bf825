-- session/ping: Proves a connection works.
select 1
