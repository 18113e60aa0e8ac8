"""polyak.theory"""
