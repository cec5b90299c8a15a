"""Pages every app shares: the error pages and the favicon."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect, HttpResponseServerError
from django.template import loader
from django.templatetags.static import static
from django.utils import translation
from django.views.decorators.cache import cache_control

from mediahub.core.context_processors import demo_model_active


def server_error(request):
    """The 500 page, drawn without the request's context processors: they read the session and the
    user from the database, which may be what failed."""
    context = {"demo_model_active": demo_model_active(), "LANGUAGE_CODE": translation.get_language()}
    return HttpResponseServerError(loader.get_template("500.html").render(context))


@login_not_required
@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico on every site, signed in or not."""
    return HttpResponseRedirect(static("mediahub/favicon.png"))
