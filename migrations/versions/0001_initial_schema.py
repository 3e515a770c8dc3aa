"""Initial schema: admin units, thematic and reference layers, citizen reports, disaster zones.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 20:28:07.333813
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table('admin_units',
    sa.Column('code', sa.String(length=5), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_ascii', sa.Text(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('parent_code', sa.String(length=5), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('area_km2', sa.Float(), nullable=False),
    sa.Column('seat', sa.Text(), nullable=True),
    sa.Column('merged_from', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(level = 'city') = (parent_code IS NULL)", name=op.f('ck_admin_units_parent_by_level')),
    sa.CheckConstraint("level IN ('city', 'ward', 'commune')", name=op.f('ck_admin_units_level_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_admin_units_geom_valid')),
    sa.CheckConstraint('population IS NULL OR population >= 0', name=op.f('ck_admin_units_population_positive')),
    sa.ForeignKeyConstraint(['parent_code'], ['admin_units.code'], name=op.f('fk_admin_units_parent_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_units')),
    sa.UniqueConstraint('code', name=op.f('uq_admin_units_code'))
    )
    op.create_geospatial_index('idx_admin_units_geom', 'admin_units', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('dams',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('capacity_mw', sa.Float(), nullable=True),
    sa.Column('reservoir_mcm', sa.Float(), nullable=True),
    sa.Column('river_basin', sa.Text(), nullable=True),
    sa.Column('owner', sa.Text(), nullable=True),
    sa.Column('operating_since', sa.Text(), nullable=True),
    sa.Column('in_city', sa.Boolean(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_dams_geom_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dams')),
    sa.UniqueConstraint('name', name=op.f('uq_dams_name'))
    )
    op.create_geospatial_index('idx_dams_geom', 'dams', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('disaster_zones',
    sa.Column('event', sa.Text(), nullable=False),
    sa.Column('hazard', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=10), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('certainty', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('headline_vi', sa.Text(), nullable=False),
    sa.Column('headline_en', sa.Text(), nullable=False),
    sa.Column('instruction_vi', sa.Text(), nullable=True),
    sa.Column('instruction_en', sa.Text(), nullable=True),
    sa.Column('onset', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("category IN ('Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other')", name=op.f('ck_disaster_zones_category_vocabulary')),
    sa.CheckConstraint("certainty IN ('Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown')", name=op.f('ck_disaster_zones_certainty_vocabulary')),
    sa.CheckConstraint("hazard IN ('flood', 'flash_flood', 'typhoon', 'tropical_storm', 'landslide', 'storm_surge', 'heavy_rain', 'drought', 'heat_wave', 'other')", name=op.f('ck_disaster_zones_hazard_vocabulary')),
    sa.CheckConstraint("severity IN ('Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown')", name=op.f('ck_disaster_zones_severity_vocabulary')),
    sa.CheckConstraint("status IN ('Actual', 'Exercise', 'System', 'Test', 'Draft')", name=op.f('ck_disaster_zones_status_vocabulary')),
    sa.CheckConstraint("urgency IN ('Immediate', 'Expected', 'Future', 'Past', 'Unknown')", name=op.f('ck_disaster_zones_urgency_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_disaster_zones_geom_valid')),
    sa.CheckConstraint('expires > onset', name=op.f('ck_disaster_zones_expires_after_onset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disaster_zones'))
    )
    op.create_geospatial_index('idx_disaster_zones_geom', 'disaster_zones', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_disaster_zones_expires'), 'disaster_zones', ['expires'], unique=False)
    op.create_index(op.f('ix_disaster_zones_onset'), 'disaster_zones', ['onset'], unique=False)
    op.create_table('layer_loads',
    sa.Column('layer_id', sa.String(length=64), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('layer_id', name=op.f('pk_layer_loads'))
    )
    op.create_geospatial_table('rivers',
    sa.Column('gshhg_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('name_basis', sa.Text(), nullable=True),
    sa.Column('length_km_in_city', sa.Float(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_rivers_geom_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rivers')),
    sa.UniqueConstraint('gshhg_id', name=op.f('uq_rivers_gshhg_id'))
    )
    op.create_geospatial_index('idx_rivers_geom', 'rivers', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('roads',
    sa.Column('ref', sa.String(length=16), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('road_class', sa.String(length=16), nullable=False),
    sa.Column('length_km_in_city', sa.Float(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("road_class IN ('national', 'provincial', 'railway')", name=op.f('ck_roads_road_class_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_roads_geom_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roads'))
    )
    op.create_geospatial_index('idx_roads_geom', 'roads', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('storm_tracks',
    sa.Column('storm_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('number_in_year', sa.SmallInteger(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('peak_wind_kt', sa.Float(), nullable=True),
    sa.Column('min_pressure_hpa', sa.Float(), nullable=True),
    sa.Column('peak_category', sa.String(length=8), nullable=True),
    sa.Column('closest_km', sa.Float(), nullable=False),
    sa.Column('closest_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('wind_at_closest_kt', sa.Float(), nullable=True),
    sa.Column('category_at_closest', sa.String(length=8), nullable=True),
    sa.Column('geom', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_storm_tracks_geom_valid')),
    sa.CheckConstraint('ended_at >= started_at', name=op.f('ck_storm_tracks_ends_after_start')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storm_tracks')),
    sa.UniqueConstraint('storm_id', name=op.f('uq_storm_tracks_storm_id'))
    )
    op.create_geospatial_index('idx_storm_tracks_geom', 'storm_tracks', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('water_areas',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('water_type', sa.String(length=8), nullable=False),
    sa.Column('area_km2_in_city', sa.Float(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("water_type IN ('sea', 'lagoon', 'other')", name=op.f('ck_water_areas_water_type_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_water_areas_geom_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_water_areas')),
    sa.UniqueConstraint('code', name=op.f('uq_water_areas_code'))
    )
    op.create_geospatial_index('idx_water_areas_geom', 'water_areas', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('citizen_reports',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('priority', sa.String(length=8), server_default='normal', nullable=False),
    sa.Column('admin_unit_code', sa.String(length=5), nullable=True),
    sa.Column('department', sa.String(length=32), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result_note', sa.Text(), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("channel IN ('app', 'web', 'hotline', 'open311')", name=op.f('ck_citizen_reports_channel_vocabulary')),
    sa.CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name=op.f('ck_citizen_reports_priority_vocabulary')),
    sa.CheckConstraint("status IN ('received', 'assigned', 'in_progress', 'resolved', 'closed', 'rejected', 'duplicate', 'reopened')", name=op.f('ck_citizen_reports_status_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_citizen_reports_geom_valid')),
    sa.CheckConstraint('char_length(description) BETWEEN 10 AND 4000', name=op.f('ck_citizen_reports_description_length')),
    sa.CheckConstraint('due_at IS NULL OR due_at > received_at', name=op.f('ck_citizen_reports_due_after_received')),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_citizen_reports_rating_range')),
    sa.ForeignKeyConstraint(['admin_unit_code'], ['admin_units.code'], name=op.f('fk_citizen_reports_admin_unit_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_citizen_reports')),
    sa.UniqueConstraint('code', name=op.f('uq_citizen_reports_code'))
    )
    op.create_geospatial_index('idx_citizen_reports_geom', 'citizen_reports', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_citizen_reports_admin_unit_code'), 'citizen_reports', ['admin_unit_code'], unique=False)
    op.create_index(op.f('ix_citizen_reports_category'), 'citizen_reports', ['category'], unique=False)
    op.create_index(op.f('ix_citizen_reports_received_at'), 'citizen_reports', ['received_at'], unique=False)
    op.create_index(op.f('ix_citizen_reports_status'), 'citizen_reports', ['status'], unique=False)
    op.create_geospatial_table('construction_permits',
    sa.Column('permit_no', sa.String(length=32), nullable=False),
    sa.Column('project_name', sa.Text(), nullable=False),
    sa.Column('permit_type', sa.String(length=16), nullable=False),
    sa.Column('building_use', sa.String(length=32), nullable=False),
    sa.Column('floors', sa.SmallInteger(), nullable=True),
    sa.Column('floor_area_m2', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("permit_type IN ('new_build', 'renovation', 'repair', 'demolition', 'temporary')", name=op.f('ck_construction_permits_permit_type_vocabulary')),
    sa.CheckConstraint("status IN ('issued', 'under_construction', 'completed', 'expired', 'revoked')", name=op.f('ck_construction_permits_status_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_construction_permits_geom_valid')),
    sa.CheckConstraint('expires_on IS NULL OR expires_on > issued_on', name=op.f('ck_construction_permits_expires_after_issue')),
    sa.CheckConstraint('floors IS NULL OR floors BETWEEN 0 AND 60', name=op.f('ck_construction_permits_floors_range')),
    sa.ForeignKeyConstraint(['ward_code'], ['admin_units.code'], name=op.f('fk_construction_permits_ward_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_construction_permits')),
    sa.UniqueConstraint('permit_no', name=op.f('uq_construction_permits_permit_no'))
    )
    op.create_geospatial_index('idx_construction_permits_geom', 'construction_permits', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_construction_permits_ward_code'), 'construction_permits', ['ward_code'], unique=False)
    op.create_geospatial_table('health_facilities',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('facility_type', sa.String(length=32), nullable=False),
    sa.Column('ownership', sa.String(length=8), nullable=False),
    sa.Column('beds', sa.Integer(), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("facility_type IN ('central_hospital', 'city_hospital', 'regional_hospital', 'specialised_hospital', 'private_hospital', 'health_centre', 'health_station', 'clinic')", name=op.f('ck_health_facilities_facility_type_vocabulary')),
    sa.CheckConstraint("ownership IN ('public', 'private')", name=op.f('ck_health_facilities_ownership_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_health_facilities_geom_valid')),
    sa.CheckConstraint('beds IS NULL OR beds >= 0', name=op.f('ck_health_facilities_beds_positive')),
    sa.ForeignKeyConstraint(['ward_code'], ['admin_units.code'], name=op.f('fk_health_facilities_ward_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_facilities'))
    )
    op.create_geospatial_index('idx_health_facilities_geom', 'health_facilities', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_health_facilities_ward_code'), 'health_facilities', ['ward_code'], unique=False)
    op.create_geospatial_table('land_parcels',
    sa.Column('parcel_no', sa.String(length=32), nullable=False),
    sa.Column('map_sheet', sa.Integer(), nullable=False),
    sa.Column('land_use', sa.String(length=3), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('holder_type', sa.String(length=16), nullable=False),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("land_use IN ('ODT', 'ONT', 'LUA', 'CLN', 'HNK', 'RSX', 'NTS', 'TMD', 'SKC', 'DGD', 'DYT', 'DTT', 'DDT', 'TON', 'NTD', 'CQP')", name=op.f('ck_land_parcels_land_use_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_land_parcels_geom_valid')),
    sa.CheckConstraint('area_m2 > 0', name=op.f('ck_land_parcels_area_positive')),
    sa.ForeignKeyConstraint(['ward_code'], ['admin_units.code'], name=op.f('fk_land_parcels_ward_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_land_parcels')),
    sa.UniqueConstraint('parcel_no', name=op.f('uq_land_parcels_parcel_no'))
    )
    op.create_geospatial_index('idx_land_parcels_geom', 'land_parcels', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_land_parcels_ward_code'), 'land_parcels', ['ward_code'], unique=False)
    op.create_geospatial_table('places',
    sa.Column('geonames_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=True),
    sa.Column('feature_code', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('group_name', sa.String(length=16), nullable=False),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_places_geom_valid')),
    sa.ForeignKeyConstraint(['ward_code'], ['admin_units.code'], name=op.f('fk_places_ward_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_places')),
    sa.UniqueConstraint('geonames_id', name=op.f('uq_places_geonames_id'))
    )
    op.create_geospatial_index('idx_places_geom', 'places', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_places_ward_code'), 'places', ['ward_code'], unique=False)
    op.create_geospatial_table('planning_zones',
    sa.Column('plan_code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('zone_type', sa.String(length=32), nullable=False),
    sa.Column('max_far', sa.Float(), nullable=True),
    sa.Column('max_height_m', sa.Float(), nullable=True),
    sa.Column('approved_on', sa.Date(), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("zone_type IN ('residential', 'mixed_use', 'commercial', 'industrial', 'heritage_conservation', 'tourism', 'public_facility', 'green_space', 'agriculture', 'forest')", name=op.f('ck_planning_zones_zone_type_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_planning_zones_geom_valid')),
    sa.CheckConstraint('max_far IS NULL OR max_far > 0', name=op.f('ck_planning_zones_far_positive')),
    sa.CheckConstraint('max_height_m IS NULL OR max_height_m > 0', name=op.f('ck_planning_zones_height_positive')),
    sa.ForeignKeyConstraint(['ward_code'], ['admin_units.code'], name=op.f('fk_planning_zones_ward_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_zones')),
    sa.UniqueConstraint('plan_code', name=op.f('uq_planning_zones_plan_code'))
    )
    op.create_geospatial_index('idx_planning_zones_geom', 'planning_zones', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_planning_zones_ward_code'), 'planning_zones', ['ward_code'], unique=False)
    op.create_geospatial_table('schools',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('school_level', sa.String(length=16), nullable=False),
    sa.Column('ownership', sa.String(length=8), nullable=False),
    sa.Column('students', sa.Integer(), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("ownership IN ('public', 'private')", name=op.f('ck_schools_ownership_vocabulary')),
    sa.CheckConstraint("school_level IN ('kindergarten', 'primary', 'lower_secondary', 'upper_secondary', 'university')", name=op.f('ck_schools_school_level_vocabulary')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_schools_geom_valid')),
    sa.CheckConstraint('students IS NULL OR students >= 0', name=op.f('ck_schools_students_positive')),
    sa.ForeignKeyConstraint(['ward_code'], ['admin_units.code'], name=op.f('fk_schools_ward_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools'))
    )
    op.create_geospatial_index('idx_schools_geom', 'schools', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_schools_ward_code'), 'schools', ['ward_code'], unique=False)
    op.create_geospatial_table('tourism_sites',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('theme', sa.String(length=16), nullable=False),
    sa.Column('geonames_id', sa.Integer(), nullable=True),
    sa.Column('elevation_m', sa.Float(), nullable=True),
    sa.Column('quality_note', sa.Text(), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_tourism_sites_geom_valid')),
    sa.ForeignKeyConstraint(['ward_code'], ['admin_units.code'], name=op.f('fk_tourism_sites_ward_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tourism_sites')),
    sa.UniqueConstraint('geonames_id', name=op.f('uq_tourism_sites_geonames_id'))
    )
    op.create_geospatial_index('idx_tourism_sites_geom', 'tourism_sites', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_tourism_sites_ward_code'), 'tourism_sites', ['ward_code'], unique=False)
    op.create_table('report_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("to_status IN ('received', 'assigned', 'in_progress', 'resolved', 'closed', 'rejected', 'duplicate', 'reopened')", name=op.f('ck_report_events_to_status_vocabulary')),
    sa.ForeignKeyConstraint(['report_id'], ['citizen_reports.id'], name=op.f('fk_report_events_report_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_events'))
    )
    op.create_index(op.f('ix_report_events_report_id'), 'report_events', ['report_id'], unique=False)
    op.create_table('reporters',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('device_id', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['citizen_reports.id'], name=op.f('fk_reporters_report_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reporters')),
    sa.UniqueConstraint('report_id', name=op.f('uq_reporters_report_id'))
    )


def downgrade() -> None:
    op.drop_table('reporters')
    op.drop_index(op.f('ix_report_events_report_id'), table_name='report_events')
    op.drop_table('report_events')
    op.drop_index(op.f('ix_tourism_sites_ward_code'), table_name='tourism_sites')
    op.drop_geospatial_index('idx_tourism_sites_geom', table_name='tourism_sites', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('tourism_sites')
    op.drop_index(op.f('ix_schools_ward_code'), table_name='schools')
    op.drop_geospatial_index('idx_schools_geom', table_name='schools', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('schools')
    op.drop_index(op.f('ix_planning_zones_ward_code'), table_name='planning_zones')
    op.drop_geospatial_index('idx_planning_zones_geom', table_name='planning_zones', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('planning_zones')
    op.drop_index(op.f('ix_places_ward_code'), table_name='places')
    op.drop_geospatial_index('idx_places_geom', table_name='places', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('places')
    op.drop_index(op.f('ix_land_parcels_ward_code'), table_name='land_parcels')
    op.drop_geospatial_index('idx_land_parcels_geom', table_name='land_parcels', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('land_parcels')
    op.drop_index(op.f('ix_health_facilities_ward_code'), table_name='health_facilities')
    op.drop_geospatial_index('idx_health_facilities_geom', table_name='health_facilities', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('health_facilities')
    op.drop_index(op.f('ix_construction_permits_ward_code'), table_name='construction_permits')
    op.drop_geospatial_index('idx_construction_permits_geom', table_name='construction_permits', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('construction_permits')
    op.drop_index(op.f('ix_citizen_reports_status'), table_name='citizen_reports')
    op.drop_index(op.f('ix_citizen_reports_received_at'), table_name='citizen_reports')
    op.drop_index(op.f('ix_citizen_reports_category'), table_name='citizen_reports')
    op.drop_index(op.f('ix_citizen_reports_admin_unit_code'), table_name='citizen_reports')
    op.drop_geospatial_index('idx_citizen_reports_geom', table_name='citizen_reports', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('citizen_reports')
    op.drop_geospatial_index('idx_water_areas_geom', table_name='water_areas', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('water_areas')
    op.drop_geospatial_index('idx_storm_tracks_geom', table_name='storm_tracks', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('storm_tracks')
    op.drop_geospatial_index('idx_roads_geom', table_name='roads', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('roads')
    op.drop_geospatial_index('idx_rivers_geom', table_name='rivers', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('rivers')
    op.drop_table('layer_loads')
    op.drop_index(op.f('ix_disaster_zones_onset'), table_name='disaster_zones')
    op.drop_index(op.f('ix_disaster_zones_expires'), table_name='disaster_zones')
    op.drop_geospatial_index('idx_disaster_zones_geom', table_name='disaster_zones', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('disaster_zones')
    op.drop_geospatial_index('idx_dams_geom', table_name='dams', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('dams')
    op.drop_geospatial_index('idx_admin_units_geom', table_name='admin_units', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('admin_units')
