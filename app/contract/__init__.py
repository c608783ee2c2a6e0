"""Facts shared by the app, infra/ and devtools/, free of any web framework."""
