from kizuna.core import access


def ui(request):
    user = getattr(request, "user", None)
    return {"user_is_admin": bool(user and user.is_authenticated and access.is_admin(user))}
