"""The API object at /api/v1/; each domain adds its router here."""

from ninja import NinjaAPI

from kizuna.activities.api import router as activities_router
from kizuna.analytics.api_reports import router as reports_router
from kizuna.api import errors
from kizuna.api.auth import TokenAuth
from kizuna.core.api import router as core_router
from kizuna.customers.api import router as customers_router
from kizuna.iam.api import router as iam_router
from kizuna.imports.api import router as imports_router
from kizuna.sales.api import router as sales_router
from kizuna.sales.api_quotes import router as quotes_router

api = NinjaAPI(
    title="Kizuna API",
    version="1",
    description=(
        "Authenticate with `Authorization: Bearer <token>` (create a token on your profile "
        "page). Lists take `limit` and `cursor` and answer `{items, next_cursor}`. Reads "
        'answer with `ETag: "<version>"`; send it back as `If-Match` on updates and deletes '
        "(409 when stale). Creates honour an `Idempotency-Key` header."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
)
errors.install(api)

api.add_router("", customers_router)
api.add_router("", activities_router)
api.add_router("", core_router)
api.add_router("", iam_router)
api.add_router("", sales_router)
api.add_router("", quotes_router)
api.add_router("", reports_router)
api.add_router("", imports_router)
