from django import template
from django.utils import translation

from mediahub.shots import selectors

register = template.Library()


@register.filter
def described(shot, lang: str) -> str:
    """The shot's description as users see it (the editor's, else the generated one) in `lang`."""
    return shot.description(lang)


@register.filter
def edited_in(shot, lang: str) -> bool:
    """Whether an editor corrected the shot's description in `lang`."""
    return bool(getattr(shot, f"edited_{lang}"))


@register.simple_tag
def image_alt_texts(items, attribute: str = "") -> dict[int, str]:
    """The descriptions of the images among `items` (assets, or objects holding one as `attribute`),
    by asset id, in the page's language: one query for a page of cards. For pages whose view is not
    the shots app's to change (search results); views that can, attach them as the library does."""
    assets = [getattr(item, attribute) if attribute else item for item in items]
    return selectors.image_descriptions(asset_ids=[asset.pk for asset in assets if asset.kind == "image"],
                                        lang=selectors.description_language(translation.get_language()))


@register.filter
def alt_text_of(alt_texts: dict[int, str], asset) -> str:
    return alt_texts.get(asset.pk, "")
