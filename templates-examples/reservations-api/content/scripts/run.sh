#!/bin/sh
set -eu
exec dotnet run --project "src/{{ namespace }}"
