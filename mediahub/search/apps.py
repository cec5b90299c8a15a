from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "mediahub.search"
    label = "search"
    verbose_name = "Search"
