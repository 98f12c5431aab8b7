from gis.cli import app

app(prog_name="gis")
