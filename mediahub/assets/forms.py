from django import forms
from django.utils.translation import gettext_lazy as _


class AssetEditForm(forms.Form):
    """The asset page's form for editors: title and description."""

    title = forms.CharField(max_length=300)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def first_error(self) -> str:
        field, errors = next(iter(self.errors.items()))
        return f"{field.capitalize()}: {errors[0]}" if field != "__all__" else errors[0]


class RightsPolicyForm(forms.Form):
    """The admins' rule on what viewers see (editors and admins always see everything, badged)."""

    viewers_see_embargoed = forms.BooleanField(required=False, label=_("Viewers see footage under embargo"))
    viewers_see_do_not_use = forms.BooleanField(required=False, label=_("Viewers see footage marked do not use"))
