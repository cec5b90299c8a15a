from django import forms


class AssetEditForm(forms.Form):
    """The asset page's form for editors: title and description."""

    title = forms.CharField(max_length=300)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def first_error(self) -> str:
        field, errors = next(iter(self.errors.items()))
        return f"{field.capitalize()}: {errors[0]}" if field != "__all__" else errors[0]
