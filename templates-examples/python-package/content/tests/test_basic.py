from {{ package_name }} import greet


def test_greet():
    assert greet("Ada") == "Hello, Ada!"
