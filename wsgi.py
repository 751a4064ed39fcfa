from perception import create_app

app = create_app()
