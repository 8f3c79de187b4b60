import notes.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('administrations', '0002_contact_moneybird_attributes'),
        ('notes', '0002_drop_redundant_administration_index'),
    ]

    operations = [
        # Existing events all committed long ago: 0 puts them before every new one, in id
        # order, and a constant default adds the column without rewriting the table.
        migrations.AddField(
            model_name='event',
            name='xact',
            field=models.BigIntegerField(default=0, editable=False),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='event',
            name='xact',
            field=models.BigIntegerField(db_default=notes.models.TransactionId(), editable=False),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['administration', 'xact', 'id'], name='event_adm_feed'),
        ),
    ]
