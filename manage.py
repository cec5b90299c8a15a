#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
    from mediahub import embedded, launch

    try:
        launch.command_prepare(sys.argv)
    except (launch.DataDirUnknown, embedded.EmbeddedServiceError) as exc:
        sys.stderr.write(f"{exc}\n")
        sys.exit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
