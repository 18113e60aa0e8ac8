"""polyak.figures"""
