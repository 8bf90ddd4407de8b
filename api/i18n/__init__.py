"""Korean and English for the explorer, the dashboard and the resident app: the request's
locale (`locale`: ?lang=, the cookie, Accept-Language, Korean by default), the gettext
catalogs read with Babel (`catalog`), ko-KR / English numbers, won and KST times (`formats`),
and the ASGI middleware and Jinja2 wiring (`web`). The JSON API (/v1) stays English."""
