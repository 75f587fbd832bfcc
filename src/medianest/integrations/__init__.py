"""Wire adapters, one package per upstream: they speak its wire format and hand back MediaNest's
own typed schemas, so nothing past them sees raw upstream JSON. They import only `core` and the
settings, never a domain, because several domains speak to one upstream."""
